import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { cpuMs } from './process-cpu.ts';

/** Whether `perf stat` can count a process tree's execs, forks and CPU here (root, or a low paranoia). */
const PERF =
  spawnSync('perf', ['stat', '-x,', '-e', 'sched:sched_process_exec', '--', 'true'], {
    stdio: 'ignore',
  }).status === 0;

/**
 * `perf stat` on running processes and everything they start from now on (perf's counters are
 * inherited by children, even through bubblewrap's namespaces): CPU time (task-clock), programs
 * executed and processes forked. Counts, not rates: what the machine's load hardly changes.
 */
function perfTree(pids: number[]): { done(): Promise<{ cpuMs: number; execs: number; forks: number }> } {
  const out = join(mkdtempSync(join(tmpdir(), 'pushci-bench-perf-')), 'stat.csv');
  const p: ChildProcess = spawn(
    'perf',
    [
      'stat',
      '-x,',
      '-o',
      out,
      '-e',
      'task-clock,sched:sched_process_exec,sched:sched_process_fork',
      '-p',
      pids.join(','),
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => p.once('exit', r));
  return {
    async done() {
      p.kill('SIGINT');
      await exited;
      const value = (event: string) => {
        const line = readFileSync(out, 'utf8')
          .split('\n')
          .find((l) => l.split(',')[2]?.startsWith(event));
        return line ? Number(line.split(',')[0]) : NaN;
      };
      return {
        cpuMs: value('task-clock'),
        execs: value('sched:sched_process_exec'),
        forks: value('sched:sched_process_fork'),
      };
    },
  };
}

/**
 * The `fsync`s Redis made from now on and the time it spent in them (`perf trace -s`, one event per
 * call): with `appendfsync always` Redis syncs its file before it answers any batch of writes, on its
 * one thread, so this is time no other command is served.
 */
function redisSyncs(pid: number): { done(): Promise<{ calls: number; ms: number } | null> } {
  const out = join(mkdtempSync(join(tmpdir(), 'pushci-bench-perf-')), 'trace.txt');
  const p: ChildProcess = spawn(
    'perf',
    ['trace', '-s', '-e', 'fdatasync,fsync', '-o', out, '-p', String(pid)],
    { stdio: 'ignore' },
  );
  const exited = new Promise((r) => p.once('exit', r));
  return {
    async done() {
      p.kill('SIGINT');
      await exited;
      let calls = 0;
      let ms = 0;
      let found = false;
      const text = (() => {
        try {
          return readFileSync(out, 'utf8');
        } catch {
          return '';
        }
      })();
      for (const m of text.matchAll(/^\s*f(?:data)?sync\s+(\d+)\s+\d+\s+([\d.]+)/gm)) {
        found = true;
        calls += Number(m[1]);
        ms += Number(m[2]);
      }
      return found ? { calls, ms } : null;
    },
  };
}

/** Calls of each Redis command so far (INFO commandstats; commands run by Lua scripts included). */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const info = await client.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

/** The parent pid of every process, by pid. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      out.set(Number(e), Number(stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[1]));
    } catch {
      // Ended while listed.
    }
  }
  return out;
}

/**
 * `pid` and every process it started that runs now (its spawner, slot networks, standbys kept from
 * the warm-up): perf counts what those do from now on, and what they start.
 */
function withDescendants(pid: number): number[] {
  const ppid = parents();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of ppid)
      if (tree.has(pp) && !tree.has(p)) {
        tree.add(p);
        grew = true;
      }
  }
  return [...tree];
}

/** The spawner processes (src/runner/spawner/) of these workers, by pid. */
function spawners(workers: number[]): number[] {
  const found: number[] = [];
  for (const [pid, ppid] of parents()) {
    if (!workers.includes(ppid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('spawner-main')) found.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Where the machine's CPU went, per build, and how many Redis commands and programs a build cost. */
export interface CpuBreakdown {
  /** CPU ms per build of each part: receiver, worker (its Node process), worker's programs, Redis, bench. */
  cpuMsPerBuild: Record<string, number>;
  /** The parts' sum per build. */
  totalCpuMsPerBuild: number;
  /** CPU ms per build of the workers' main threads (their event loops), a part of the worker's share. */
  workerLoopCpuMsPerBuild: number;
  /** CPU ms per build of the workers' spawner processes (their Node code: IPC and forks), a part of the programs' share. */
  spawnerCpuMsPerBuild: number;
  /** Programs executed and processes forked per build by the workers and everything they started. */
  execsPerBuild: number | null;
  forksPerBuild: number | null;
  redisCommandsPerBuild: number;
  /** Redis's `fsync`s per build and the ms it spent in them (null without `perf trace`). */
  redisSyncsPerBuild: number | null;
  redisSyncMsPerBuild: number | null;
  /** The most called commands, per build. */
  topRedisCommands: Record<string, number>;
}

/**
 * Starts counting for a throughput run: the receiver's and the workers' own CPU from /proc, the
 * workers' children (git, bubblewrap, the step, the network helper) with perf when it is there (else
 * what the workers reaped, from /proc's cutime and cstime), Redis's CPU and commands, and the bench's
 * own CPU (the load generator and the webhook receiver). `stop(builds)` gives the figures per build.
 */
export async function startCpuBreakdown(o: {
  receiver: number;
  workers: number[];
  redis: Redis;
}): Promise<{ stop(builds: number): Promise<CpuBreakdown> }> {
  const redisPid = Number(/process_id:(\d+)/.exec(await o.redis.info('server'))![1]);
  const trees = PERF ? o.workers.map((pid) => perfTree(withDescendants(pid))) : [];
  const syncs = PERF ? redisSyncs(redisPid) : null;
  const workerSelf = () => o.workers.reduce((s, pid) => s + cpuMs(pid), 0);
  const workerLoop = () => o.workers.reduce((s, pid) => s + cpuMs(pid, { mainThread: true }), 0);
  const workerAll = () => o.workers.reduce((s, pid) => s + cpuMs(pid, { children: true }), 0);
  const start = {
    receiver: cpuMs(o.receiver),
    workerSelf: workerSelf(),
    workerLoop: workerLoop(),
    // A worker starts its spawner with its first step: one already there counts from now.
    spawners: new Map(spawners(o.workers).map((pid) => [pid, cpuMs(pid)])),
    workerAll: workerAll(),
    redis: cpuMs(redisPid),
    bench: process.cpuUsage(),
    calls: await commandCalls(o.redis),
  };
  return {
    async stop(builds) {
      const self = workerSelf() - start.workerSelf;
      const reaped = workerAll() - start.workerAll - self;
      const perf = await Promise.all(trees.map((t) => t.done()));
      const synced = (await syncs?.done()) ?? null;
      const bench = process.cpuUsage(start.bench);
      const calls = await commandCalls(o.redis);
      // The INFO calls themselves are the bench's, not pushci's.
      const diff = [...calls].map(
        ([c, n]) => [c, n - (start.calls.get(c) ?? 0) - (c === 'info' ? 1 : 0)] as const,
      );
      const total = diff.reduce((s, [, n]) => s + n, 0);
      const perfCpu = perf.reduce((s, x) => s + x.cpuMs, 0);
      const parts: Record<string, number> = {
        receiver: cpuMs(o.receiver) - start.receiver,
        'worker (Node: jobs and deliveries)': self,
        'worker children (git, bwrap, step, network helper)':
          perf.length > 0 && Number.isFinite(perfCpu) ? Math.max(0, perfCpu - self) : reaped,
        redis: cpuMs(redisPid) - start.redis,
        'bench (load generator, webhook receiver)': (bench.user + bench.system) / 1000,
      };
      const cpuMsPerBuild = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v / builds]));
      const sum = (f: (x: { execs: number; forks: number }) => number) =>
        perf.length > 0 ? perf.reduce((s, x) => s + f(x), 0) / builds : null;
      return {
        cpuMsPerBuild,
        totalCpuMsPerBuild: Object.values(cpuMsPerBuild).reduce((a, b) => a + b, 0),
        workerLoopCpuMsPerBuild: (workerLoop() - start.workerLoop) / builds,
        spawnerCpuMsPerBuild:
          spawners(o.workers).reduce((s, pid) => s + cpuMs(pid) - (start.spawners.get(pid) ?? 0), 0) / builds,
        execsPerBuild: sum((x) => x.execs),
        forksPerBuild: sum((x) => x.forks),
        redisCommandsPerBuild: total / builds,
        redisSyncsPerBuild: synced ? synced.calls / builds : null,
        redisSyncMsPerBuild: synced ? synced.ms / builds : null,
        topRedisCommands: Object.fromEntries(
          diff
            .filter(([, n]) => n > 0)
            .sort((a, b) => b[1] - a[1])
            .map(([c, n]) => [c, n / builds]),
        ),
      };
    },
  };
}
