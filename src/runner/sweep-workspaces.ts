import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRecord } from '../queue/build-record.ts';
import type { WorkerBeat } from '../queue/worker-heartbeat.ts';
import type { FileWork } from './files/file-work.ts';
import { workspacesRoot } from './prepare-workspaces-root.ts';

/** `<build>-<job>-<attempt>`, as `planJob` names a workspace (build ids are made of [0-9a-z] only). */
const WORKSPACE = /^([0-9a-z]+)-(.+)-([1-9][0-9]*)$/;

export interface SweepWorkspacesDeps {
  /** PUSHCI_DATA_DIR: the workspaces are its `workspaces/` folder. */
  dataDir: string;
  /** A build's record as Redis has it now (null once retention removed it). */
  record(id: string): Promise<BuildRecord | null>;
  /** What the live workers say they run (their heartbeats), wherever they run. */
  running(): Promise<WorkerBeat['running']>;
  files: FileWork;
}

/**
 * Removes the workspaces of attempts that no longer run: a worker that died (SIGKILL, power loss) never
 * removed its own. An attempt still runs while Redis says it is its job's current running attempt, or
 * while a live worker says it runs that job (a job a cancel or skip already ended in Redis may still be
 * stopping there): such a workspace is kept, whichever process or machine shares the data dir. Records
 * are read after the folders are listed, and a folder exists only once its attempt is the job's current
 * one, so a starting attempt is never mistaken for an old one. Returns the folders removed.
 */
export async function sweepWorkspaces(deps: SweepWorkspacesDeps): Promise<string[]> {
  const root = workspacesRoot(deps.dataDir);
  const names = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const found = names.flatMap((name) => {
    const m = WORKSPACE.exec(name);
    return m ? [{ name, build: m[1]!, job: m[2]!, attempt: Number(m[3]) }] : [];
  });
  if (found.length === 0) return [];
  const records = new Map<string, BuildRecord | null>();
  for (const build of new Set(found.map((f) => f.build))) records.set(build, await deps.record(build));
  const live = new Set((await deps.running()).map((r) => `${r.build_id}\n${r.job}`));
  const gone = found.filter((f) => {
    if (live.has(`${f.build}\n${f.job}`)) return false;
    const state = records.get(f.build)?.jobs.get(f.job);
    return !(state && state.status === 'running' && state.attempt === f.attempt);
  });
  if (gone.length > 0) await deps.files.apply(gone.map((f) => ({ op: 'rm', path: join(root, f.name) })));
  return gone.map((f) => f.name);
}
