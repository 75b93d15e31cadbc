import { readFileSync } from 'node:fs';
import type { JobLimits } from '../../backend.ts';
import type { ShellLimits } from './network.ts';
import { readAtMostEvery } from './read-at-most-every.ts';

/**
 * This process's hard rlimits (`/proc/self/limits`), by the names prlimit uses; absent: unlimited. Read
 * at most every 5 s (a job asks several times; they change only when someone changes them from outside).
 */
const hardLimits = readAtMostEvery(5000, readHardLimits);

function readHardLimits(): Map<string, number> {
  const names: Record<string, string> = {
    'Max open files': 'nofile',
    'Max file size': 'fsize',
    'Max processes': 'nproc',
    'Max data size': 'data',
  };
  const out = new Map<string, number>();
  try {
    for (const line of readFileSync('/proc/self/limits', 'utf8').split('\n')) {
      const m = /^(.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
      const name = m && names[m[1]!];
      if (name && /^\d+$/.test(m[3]!)) out.set(name, Number(m[3]));
    }
  } catch {
    // Not Linux /proc: prlimit reports what it cannot set.
  }
  return out;
}

/**
 * The limits a sandboxed step gets: an rlimit never goes above what pushci itself may raise it to (a
 * worker whose own hard open-files limit is 20000 gives its steps 20000, whatever PUSHCI_JOB_OPEN_FILES
 * says). Processes and memory are rlimits only without a cgroup; the disk limit is also a check of the
 * job's folder, so it stays as configured.
 */
export function effectiveLimits(l: JobLimits, cgroup: boolean): JobLimits {
  const hard = hardLimits();
  const cap = (name: string, value: number) =>
    value > 0 ? Math.min(value, hard.get(name) ?? Infinity) : value;
  return {
    processes: cgroup ? l.processes : cap('nproc', l.processes),
    memoryBytes: cgroup ? l.memoryBytes : cap('data', l.memoryBytes),
    diskBytes: l.diskBytes,
    openFiles: cap('nofile', l.openFiles),
  };
}

/**
 * rlimits for the step (soft = hard, never above what pushci itself may raise them to): open files and
 * file size always, set by the step's own shell (`stepPrelude`); processes and memory when no cgroup
 * limits them, by prlimit (`ulimit`'s flag for processes differs between shells).
 */
export function stepRlimits(l: JobLimits, cgroup: boolean): { shell: ShellLimits; prlimit: string[] } {
  const hard = hardLimits();
  const cap = (name: string, value: number) => Math.min(value, hard.get(name) ?? Infinity);
  const shell: ShellLimits = {};
  if (l.openFiles > 0) shell.nofile = cap('nofile', l.openFiles);
  if (l.diskBytes > 0) shell.fsize = cap('fsize', l.diskBytes);
  const prlimit: string[] = [];
  const set = (name: string, value: number) => {
    const v = cap(name, value);
    prlimit.push(`--${name}=${v}:${v}`);
  };
  if (!cgroup && l.processes > 0) set('nproc', l.processes);
  if (!cgroup && l.memoryBytes > 0) set('data', l.memoryBytes);
  return { shell, prlimit };
}
