import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ; 100 on every Linux this runs on). */
const HZ = 100;

/**
 * CPU time a process has used so far, in ms, from /proc/<pid>/stat; with `children`, also what its
 * finished and reaped children used (the `webhook` tool's commands). A CPU time per request does not
 * depend on how loaded the machine is the way a rate does, so the bench reports it next to the rates.
 */
export function cpuMs(pid: number, opts: { children?: boolean; mainThread?: boolean } = {}): number {
  // The command name may hold spaces and parentheses: the fields start after the last ") ".
  // With `mainThread`, only the thread whose id is the pid (a Node process's event loop).
  const stat = readFileSync(opts.mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  // Fields 14 to 17 of proc(5) (utime, stime, cutime, cstime), here from index 11.
  const ticks = Number(f[11]) + Number(f[12]) + (opts.children ? Number(f[13]) + Number(f[14]) : 0);
  return (ticks * 1000) / HZ;
}

/**
 * Waits until a process (with its children) stops using CPU: less than `quietMs` of CPU in each of two
 * windows of `windowMs` in a row. Returns how long that took in ms (at most `maxMs`).
 */
export async function waitIdle(
  pid: number,
  opts: { windowMs?: number; quietMs?: number; maxMs?: number } = {},
): Promise<number> {
  const { windowMs = 250, quietMs = 20, maxMs = 120_000 } = opts;
  const t0 = Date.now();
  let last = cpuMs(pid, { children: true });
  let quiet = 0;
  while (quiet < 2 && Date.now() - t0 < maxMs) {
    await new Promise((r) => setTimeout(r, windowMs));
    const now = cpuMs(pid, { children: true });
    quiet = now - last < quietMs ? quiet + 1 : 0;
    last = now;
  }
  // The two quiet windows are not part of the work.
  return Math.max(0, Date.now() - t0 - 2 * windowMs);
}
