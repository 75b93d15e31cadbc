import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, readdir, rmdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { JobLimits } from '../../backend.ts';
import { processExists } from '../../process-exists.ts';
import { formatBytes } from '../../../format-bytes.ts';

/** Where per-job cgroups can be made: cgroup v2 (one tree) or v1 (a `pids` and a `memory` tree). */
export type CgroupRoots = { version: 2; base: string } | { version: 1; pids: string; memory: string };

const PARENT = 'pushci';

async function writable(dir: string): Promise<boolean> {
  const probe = join(dir, `${PARENT}-probe-${process.pid}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds cgroups this process may create and limit (usually only as root): the v2 tree when it offers
 * the pids and memory controllers, else the v1 pids and memory hierarchies. Null: limits fall back to
 * rlimits.
 */
export async function findCgroups(mount = '/sys/fs/cgroup'): Promise<CgroupRoots | null> {
  const v2 = existsSync(join(mount, 'cgroup.controllers')) ? mount : null;
  if (v2) {
    const ctl = await readFile(join(v2, 'cgroup.controllers'), 'utf8').catch(() => '');
    if (/\bpids\b/.test(ctl) && /\bmemory\b/.test(ctl) && (await writable(v2))) {
      try {
        await writeFile(join(v2, 'cgroup.subtree_control'), '+pids +memory');
        await mkdir(join(v2, PARENT), { recursive: true });
        await writeFile(join(v2, PARENT, 'cgroup.subtree_control'), '+pids +memory');
        return { version: 2, base: join(v2, PARENT) };
      } catch {
        // Not delegated to us; try v1 below.
      }
    }
  }
  const pids = join(mount, 'pids');
  const memory = join(mount, 'memory');
  if (existsSync(join(pids, 'pids.max')) || existsSync(join(pids, 'cgroup.procs'))) {
    if (
      existsSync(join(memory, 'memory.limit_in_bytes')) &&
      (await writable(pids)) &&
      (await writable(memory))
    )
      return { version: 1, pids: join(pids, PARENT), memory: join(memory, PARENT) };
  }
  return null;
}

/**
 * The most memory reclaim cannot free (tmpfs files, anonymous or locked pages) a job's cgroup may still
 * hold to be handed to the worker's next job (`renew`): with the data dir on a tmpfs, a job's workspace
 * files stay charged to its cgroup until they are removed (after its result), and would count against the
 * next job's memory limit.
 */
const RENEW_HELD_MAX = 4 * 1024 * 1024;

/** The folders pushci's job cgroups are made in: one on cgroup v2, the pids and memory ones on v1. */
export const cgroupParents = (roots: CgroupRoots): string[] =>
  roots.version === 2 ? [roots.base] : [roots.pids, roots.memory];

/** A job's cgroup(s): its step sandboxes join it, its limits apply to all of them together. */
export interface JobCgroup {
  add(pid: number): Promise<void>;
  /** The limit the job ran into so far, as a sentence, or null. */
  exceeded(): Promise<string | null>;
  /**
   * Readies it for another job of the same limits (a worker slot's next): true when no process is left
   * in it and it holds next to no memory reclaim cannot free (RENEW_HELD_MAX), and then what it counted
   * so far (a limit hit) is the next job's baseline. False: remove it.
   */
  renew(): Promise<boolean>;
  remove(): Promise<void>;
}

/**
 * A control file's text (`fallback` when it cannot be read). Read synchronously: a cgroup's counters and
 * process list are in memory and answer at once, while node:fs/promises' readFile takes four trips
 * through libuv's thread pool (open, fstat, read, close), which cost the worker's event loop more than
 * the reads themselves: 1.8 ms per trivial job in a CPU profile, for the 6 reads of a job's steps and end.
 */
function readControl(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

const count = (text: string, key: string) => Number(new RegExp(`^${key} (\\d+)`, 'm').exec(text)?.[1] ?? 0);

/** This process's PID namespace (the number of `/proc/self/ns/pid`), or 0 when it cannot be read. */
const PID_NS = (() => {
  try {
    return Number(/\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1] ?? 0);
  } catch {
    return 0;
  }
})();

/** The key of `jobCgroupName`'s tags: this process's own, never written anywhere. */
const NAME_KEY = randomBytes(32);

/**
 * The name of a job's cgroup: `<worker pid>-n<its PID namespace>-<tag>`. A sweep tells a dead worker's
 * leftovers from a live job between two steps by the pid, and only judges a pid of its own PID namespace:
 * another pushci on this machine (in a container sharing the cgroup tree) has pids this one cannot see.
 * The tag stands for the job id without showing it: every step sees the host's cgroup tree (read-only,
 * with the rest of the host's /sys), and a job must not learn the build ids and job names of the jobs
 * running beside it, nor test a guess of one (the tag is keyed by a secret of this worker process).
 */
export function jobCgroupName(jobId: string, workerPid = process.pid): string {
  const tag = createHmac('sha256', NAME_KEY).update(jobId).digest('hex').slice(0, 20);
  return `${workerPid}-n${PID_NS}-${tag}`;
}

/**
 * Makes the cgroup(s) of one job (named by `jobCgroupName`).
 */
export async function createJobCgroup(
  roots: CgroupRoots,
  jobId: string,
  limits: JobLimits,
): Promise<JobCgroup> {
  const id = jobCgroupName(jobId);
  // Counters are per job (a renewed cgroup's start from what it counted before); a step reports only
  // what grew while it ran.
  let seenOom = 0;
  let seenMax = 0;
  const judge = (oom: number, max: number): string | null => {
    const msg = oom > seenOom ? memoryMessage(limits) : max > seenMax ? processMessage(limits) : null;
    seenOom = oom;
    seenMax = max;
    return msg;
  };
  const empty = async (dirs: string[]) => {
    for (const d of dirs) if (readControl(join(d, 'cgroup.procs'), 'x').trim()) return false;
    return true;
  };
  /** Whether it holds next to no memory that reclaim cannot free (page cache it can: that stays). */
  const light = (memoryStat: string, version: 1 | 2) => {
    const v = (k: string) => count(memoryStat, k);
    const held =
      version === 2
        ? v('anon') + v('shmem') + v('unevictable')
        : Math.max(v('total_rss'), v('rss')) +
          Math.max(v('total_shmem'), v('shmem')) +
          Math.max(v('total_unevictable'), v('unevictable'));
    return memoryStat !== '' && held <= RENEW_HELD_MAX;
  };
  const mem = limits.memoryBytes > 0 ? String(limits.memoryBytes) : 'max';
  // Two more than the job's: every sandbox's bubblewrap is in the job's cgroups too (see
  // standby-sandbox.ts), that of the step that runs and that of the one waiting for the next step. A
  // running service's bubblewrap takes one of the job's; the last step, with none waiting, gets one more.
  const procs = limits.processes > 0 ? String(limits.processes + 2) : 'max';
  if (roots.version === 2) {
    const dir = join(roots.base, id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'pids.max'), procs);
    await writeFile(join(dir, 'memory.max'), mem);
    await writeFile(join(dir, 'memory.swap.max'), '0').catch(() => {});
    const exceeded = async () => {
      const m = readControl(join(dir, 'memory.events'), '');
      const p = readControl(join(dir, 'pids.events'), '');
      return judge(count(m, 'oom_kill'), count(p, 'max'));
    };
    return {
      add: (pid) => writeFile(join(dir, 'cgroup.procs'), String(pid)),
      exceeded,
      renew: async () =>
        (await empty([dir])) &&
        light(readControl(join(dir, 'memory.stat'), ''), 2) &&
        (await exceeded(), true),
      remove: () => removeWhenEmpty([dir]),
    };
  }
  const pdir = join(roots.pids, id);
  const mdir = join(roots.memory, id);
  await mkdir(pdir, { recursive: true });
  await mkdir(mdir, { recursive: true });
  await writeFile(join(pdir, 'pids.max'), procs);
  await writeFile(join(mdir, 'memory.limit_in_bytes'), limits.memoryBytes > 0 ? mem : '-1');
  if (limits.memoryBytes > 0) await writeFile(join(mdir, 'memory.memsw.limit_in_bytes'), mem).catch(() => {});
  const exceeded = async () => {
    const m = readControl(join(mdir, 'memory.oom_control'), '');
    const p = readControl(join(pdir, 'pids.events'), '');
    return judge(count(m, 'oom_kill'), count(p, 'max'));
  };
  return {
    async add(pid) {
      await writeFile(join(pdir, 'cgroup.procs'), String(pid));
      await writeFile(join(mdir, 'cgroup.procs'), String(pid));
    },
    exceeded,
    renew: async () =>
      (await empty([pdir, mdir])) &&
      light(readControl(join(mdir, 'memory.stat'), ''), 1) &&
      (await exceeded(), true),
    remove: () => removeWhenEmpty([pdir, mdir]),
  };
}

function memoryMessage(l: JobLimits): string {
  return `ran out of memory: the job's memory limit is ${formatBytes(l.memoryBytes)} (PUSHCI_JOB_MEMORY)`;
}

function processMessage(l: JobLimits): string {
  return `hit the job's process limit of ${l.processes} (PUSHCI_JOB_PROCESSES): a fork failed`;
}

/** cgroups can only be removed once their processes are gone, which takes the kernel a moment. */
async function removeWhenEmpty(dirs: string[], tries = 50): Promise<void> {
  for (const d of dirs) {
    for (let i = 0; i < tries; i++) {
      try {
        await rmdir(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
}

/**
 * Ends what the workers that are gone left in their job cgroups, then removes those cgroups; returns how
 * many processes it killed. A sandbox can outlive its worker: bubblewrap takes the end of its block pipe
 * as "go" and binds itself to its parent only after that, so a worker killed in the moment between
 * telling a sandbox to start and that sandbox being bound to it leaves one running, unsupervised (no
 * timeout, nobody reading its output). Its job cgroup, named after the dead worker, still holds it.
 */
export async function sweepCgroups(roots: CgroupRoots): Promise<number> {
  const parents = cgroupParents(roots);
  let killed = 0;
  for (const parent of parents) {
    const entries = await readdir(parent, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const m = /^(\d+)-(?:n(\d+)-)?/.exec(e.name);
      const worker = Number(m?.[1]);
      if (!e.isDirectory() || !worker || processExists(worker)) continue;
      const dir = join(parent, e.name);
      // Only a worker of this PID namespace is known dead here; another's cgroup (or one named before
      // the namespace was part of the name) is removed only if empty, never emptied.
      const ours = m?.[2] !== undefined && Number(m[2]) === PID_NS && PID_NS !== 0;
      if (ours) killed += await killAll(dir, roots.version);
      await removeWhenEmpty([dir], ours ? 50 : 1);
    }
  }
  return killed;
}

/** SIGKILLs every process in the cgroup `dir` until none is left (a fork may race the first pass). */
async function killAll(dir: string, version: 1 | 2): Promise<number> {
  const killed = new Set<number>();
  for (let pass = 0; pass < 20; pass++) {
    const pids = (await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .map(Number)
      .filter((p) => p > 0);
    if (pids.length === 0) break;
    // cgroup v2 (Linux 5.14 on) kills the whole cgroup in one write, forks in flight included.
    if (
      version === 2 &&
      (await writeFile(join(dir, 'cgroup.kill'), '1').then(
        () => true,
        () => false,
      ))
    ) {
      for (const p of pids) killed.add(p);
    } else {
      for (const p of pids) {
        // Still in it (its pid not reused meanwhile by a process elsewhere), read just before the kill.
        const where = await readFile(`/proc/${p}/cgroup`, 'utf8').catch(() => '');
        if (!where.split('\n').some((l) => l.endsWith(`/${PARENT}/${basename(dir)}`))) continue;
        try {
          process.kill(p, 'SIGKILL');
          killed.add(p);
        } catch {
          // Gone already.
        }
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return killed.size;
}
