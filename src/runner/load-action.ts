import { constants, existsSync } from 'node:fs';
import { lstat, open, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { parseActionFile, MAX_ACTION_FILE_BYTES } from '../pipelines/action-file.ts';
import type { ActionDef } from '../pipelines/action-def.ts';
import type { ActionRef } from '../pipelines/action-ref.ts';
import { formatDiagnostic } from '../pipelines/diagnostic.ts';
import { remoteKey, remoteLabel, type FetchedAction } from './fetch-action.ts';

/** An action ready to run: where its files are (on the worker and as the steps see them) and its definition. */
export interface LoadedAction {
  /** Shown in the log: `./path` or `owner/repo@ref` (with the commit). */
  label: string;
  /** Folder of the action on the worker. */
  hostDir: string;
  /** The same folder as the steps see it. */
  dir: string;
  def: ActionDef;
}

const inside = (p: string, root: string) => p === root || p.startsWith(root + sep);

/**
 * Reads and parses the action.yml (or action.yaml) in `hostDir`, which must stay inside `root` (a
 * committed symlink must not lead to the worker's files). `label` names the action in messages.
 */
export async function readAction(
  hostDir: string,
  root: string,
  label: string,
  shown: string,
  /** The folder as the steps see it, from its real path on the worker. */
  seen: (real: string) => string,
): Promise<LoadedAction | { problem: string }> {
  const realRoot = await realpath(root).catch(() => root);
  const real = await realpath(hostDir).catch(() => null);
  if (real === null) return { problem: `${label}: there is no folder ${shown}` };
  if (!inside(real, realRoot))
    return { problem: `${label}: ${shown} leads outside its repository (through a symlink)` };
  for (const name of ['action.yml', 'action.yaml']) {
    const file = join(real, name);
    const st = await lstat(file).catch(() => null);
    if (st === null) continue;
    const realFile = await realpath(file).catch(() => null);
    if (realFile === null || !inside(realFile, realRoot))
      return { problem: `${label}: ${name} is not a file inside the repository` };
    const read = await readFileInside(realFile, realRoot);
    if (read === 'outside') return { problem: `${label}: ${name} is not a file inside the repository` };
    if (read === 'too-big')
      return { problem: `${label}: ${name} is larger than ${MAX_ACTION_FILE_BYTES} bytes` };
    const shownFile = shown === '.' ? name : `${shown.replace(/\/$/, '')}/${name}`;
    const { action, diagnostics } = parseActionFile(shownFile, read.text);
    if (!action)
      return {
        problem: `${label}: its action file has problems:\n${diagnostics.map((d) => `  ${formatDiagnostic(d)}`).join('\n')}`,
      };
    return { label, hostDir: real, dir: seen(real), def: action };
  }
  return { problem: `${label}: there is no action.yml or action.yaml in ${shown}` };
}

/**
 * The action a `uses:` names. A local one (`./path`) is read from the checkout when its step runs,
 * so it is the one of the commit being built; a remote one from the folder fetched at the job's start.
 */
export async function loadAction(
  ref: ActionRef,
  where: {
    checkout: string;
    realSrc: string;
    workspace: string;
    /** Remote actions fetched when the job started (prefetchActions). */
    fetched: ReadonlyMap<string, FetchedAction | { problem: string }>;
  },
): Promise<LoadedAction | { problem: string }> {
  if (ref.kind === 'local') {
    const shown = ref.path === '' ? '.' : ref.path;
    return readAction(
      join(where.checkout, ref.path),
      where.realSrc,
      `./${ref.path}`,
      shown,
      (real) => where.workspace + real.slice(where.realSrc.length),
    );
  }
  if (ref.kind === 'remote') {
    const f = where.fetched.get(remoteKey(ref));
    if (!f) return { problem: `${remoteLabel(ref)} was not fetched when the job started` };
    if ('problem' in f) return f;
    // Fetched folders are shown to the steps read-only, at the same path.
    return readAction(join(f.dir, ref.path), f.dir, remoteLabel(ref), ref.path || '.', (r) => r);
  }
  return { problem: 'docker actions are not supported' };
}

/**
 * Reads a file that must be a regular file inside `realRoot`, judged on what was actually opened: the
 * checkout is writable by the job's steps and services while this runs, so a path checked a moment ago
 * may be a symlink (to the worker's files, /dev/zero, a FIFO) by now. No symlink is followed at the last
 * component, opening never blocks, the opened file's real path is read back from /proc, and at most the
 * size limit is read.
 */
async function readFileInside(
  file: string,
  realRoot: string,
): Promise<{ text: string } | 'outside' | 'too-big'> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    () => null,
  );
  if (fh === null) return 'outside';
  try {
    // Linux tells what was opened; elsewhere the realpath check before the open has to do.
    if (existsSync('/proc/self/fd')) {
      const opened = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => null);
      if (opened === null || !inside(opened, realRoot)) return 'outside';
    }
    const st = await fh.stat();
    if (!st.isFile()) return 'outside';
    // Up to one byte past the limit (to tell "too big"), however the reads come back.
    const buf = Buffer.alloc(MAX_ACTION_FILE_BYTES + 1);
    let got = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
      if (got === buf.length) return 'too-big';
    }
    return { text: buf.subarray(0, got).toString('utf8') };
  } finally {
    await fh.close();
  }
}
