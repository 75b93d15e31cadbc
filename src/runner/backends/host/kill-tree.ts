import { readFile, readdir } from 'node:fs/promises';
import { processExists } from '../../process-exists.ts';

/** The variable every step process inherits; processes that left the step's process group still carry it. */
export const STEP_MARKER = 'PUSHCI_STEP_TOKEN';
/** The pid of the worker that started a step, so a restarted worker can end what a killed one left behind. */
export const WORKER_MARKER = 'PUSHCI_WORKER_PID';

/** Pids (other than ours) whose environment carries `STEP_MARKER=token`. Linux only; empty elsewhere. */
export async function markedProcesses(token: string): Promise<number[]> {
  const needle = Buffer.from(`${STEP_MARKER}=${token}\0`);
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  await Promise.all(
    entries.map(async (e) => {
      if (!/^\d+$/.test(e) || Number(e) === process.pid) return;
      try {
        const env = await readFile(`/proc/${e}/environ`);
        if (env.includes(needle)) found.push(Number(e));
      } catch {
        // Gone already, or not ours to read.
      }
    }),
  );
  return found;
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // Already gone.
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function groupAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a step's whole process tree: SIGTERM to its process group and to every process carrying its
 * marker (daemons that called setsid), then SIGKILL to whatever is left after `graceMs`.
 */
export async function killTree(
  groupLeader: number | undefined,
  token: string,
  graceMs: number,
): Promise<void> {
  if (groupLeader) signal(groupLeader, 'SIGTERM', true);
  for (const pid of await markedProcesses(token)) signal(pid, 'SIGTERM', false);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(groupLeader) && (await markedProcesses(token)).length === 0) return;
    await sleep(Math.min(100, graceMs));
  }
  if (groupLeader) signal(groupLeader, 'SIGKILL', true);
  for (const pid of await markedProcesses(token)) signal(pid, 'SIGKILL', false);
}

/**
 * Kills step processes whose worker is gone (it was SIGKILLed, so it could not clean up), so a job that
 * is re-run elsewhere never runs twice at once on this machine. Returns how many it killed.
 */
export async function sweepOrphans(): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return 0;
  }
  let killed = 0;
  const re = new RegExp(`(?:^|\\0)${WORKER_MARKER}=(\\d+)\\0`);
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const m = re.exec((await readFile(`/proc/${e}/environ`)).toString('latin1'));
      if (m && !processExists(Number(m[1]))) {
        signal(Number(e), 'SIGKILL', false);
        killed++;
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return killed;
}
