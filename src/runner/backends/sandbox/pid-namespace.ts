import { readFileSync } from 'node:fs';
import { readdir, readlink } from 'node:fs/promises';

/** Host pids of the processes in a PID namespace (given as its /proc/<pid>/ns/pid link text). */
export async function namespaceMembers(ns: string): Promise<number[]> {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return found;
  }
  await Promise.all(
    entries.map(async (e) => {
      if (!/^\d+$/.test(e)) return;
      if ((await readlink(`/proc/${e}/ns/pid`).catch(() => null)) === ns) found.push(Number(e));
    }),
  );
  return found;
}

/** Sends `sig` to `pid`, if it is still there. */
export function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** Whether `pid` runs: it exists and is not a zombie waiting for its parent to reap it. */
export function processRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}
