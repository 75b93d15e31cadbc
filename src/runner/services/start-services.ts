import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import type { ServiceDef } from '../../pipelines/pipeline.ts';
import { servicePortVariable } from '../../pipelines/services.ts';
import type { Value } from '../../pipelines/expr/values.ts';
import type { JobRuntime, StartedStep, StepExit } from '../backend.ts';
import type { LogStream } from '../job-log.ts';
import { splitLines } from '../run-step.ts';
import type { LineCut } from '../mask.ts';

/** A service that did not start or become ready: the job fails with this message. */
export class ServiceError extends Error {}

/** Lines of a service's output kept for its log section (the oldest go first). */
const KEEP_LINES = 2000;
/** Lines of a failed readiness command shown with the failure. */
const READY_TAIL = 20;
const POLL_MS = 100;

const SHELL = existsSync('/bin/bash') || existsSync('/usr/bin/bash') ? 'bash' : 'sh';
const shellArgv = (file: string) =>
  SHELL === 'bash' ? ['bash', '--noprofile', '--norc', file] : ['sh', file];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing on this machine listens on now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

/** The last `max` lines written (each with when it was), and how many went before them. */
class Tail {
  lines: Array<{ s: LogStream; m: string; t: number }> = [];
  dropped = 0;
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  push(s: LogStream, m: string) {
    this.lines.push({ s, m, t: Date.now() });
    if (this.lines.length > this.max) {
      this.lines.shift();
      this.dropped++;
    }
  }
}

interface Running {
  def: ServiceDef;
  step: StartedStep;
  output: Tail;
  lines: Promise<void>;
  /** Set when the service ended by itself (before `stop`). */
  ended: StepExit | null;
  /** When it started, and when it ended (by itself or stopped), in ms. */
  startedAt: number;
  endedAt: number | null;
}

export interface JobServices {
  /** For the steps: `SERVICE_<ID>_PORT` and `SERVICE_<ID>_HOST` of every service. */
  readonly env: Record<string, string>;
  /** `job.services`: `<id>.port`, `<id>.host` and `<id>.ports` (GitHub's spelling, port to itself). */
  readonly context: { [id: string]: Value };
  /** Starts the services in order, each one ready before the next; throws ServiceError. */
  start(): Promise<void>;
  /** Ends every service with all it started, then writes each one's log as a section. Idempotent. */
  stop(): Promise<void>;
}

export interface ServicesOptions {
  runtime: JobRuntime;
  defs: ServiceDef[];
  /** Host folder for their script files (the job's `scripts`). */
  scripts: string;
  /** Host path of their working directory (the checkout). */
  cwd: string;
  /** The environment a service starts with (before PORT and the services' variables). */
  envFor(def: ServiceDef): Record<string, string>;
  /** `t`: when the line was printed (a service's section is written when the job ends). */
  log: { system(line: string, t?: number): void; write(s: LogStream, line: string, t?: number): void };
  killGraceMs: number;
  signal: AbortSignal;
  /** Where a line too long for one log line is cut: never inside a secret (the job's). */
  cut?: LineCut;
}

/**
 * A job's `services:`: a port for each (a free one of this machine, or the one asked for), then, on
 * `start`, each service started through the job's backend (so sandboxed like the steps) and its port
 * shared with every sandbox started after it, then its readiness awaited.
 */
export async function prepareServices(o: ServicesOptions): Promise<JobServices> {
  const shared = !o.runtime.services?.privateLoopback;
  const ports = new Map<string, number>();
  const taken = new Set(o.defs.map((d) => d.port).filter((p): p is number => p !== null));
  for (const def of o.defs) {
    if (def.port !== null) {
      if (shared && !(await portFree(def.port)))
        throw new ServiceError(
          `service "${def.id}": port ${def.port} is in use on this machine (the steps share its network here); leave port: out to get a free one`,
        );
      ports.set(def.id, def.port);
      continue;
    }
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports.set(def.id, port);
  }
  const env: Record<string, string> = {};
  const context: { [id: string]: Value } = {};
  for (const def of o.defs) {
    const port = ports.get(def.id)!;
    const variable = servicePortVariable(def.id);
    env[variable] = String(port);
    env[variable.replace(/_PORT$/, '_HOST')] = '127.0.0.1';
    context[def.id] = { host: '127.0.0.1', port, ports: { [String(port)]: String(port) } };
  }
  const running: Running[] = [];
  let stopping: Promise<void> | null = null;

  // Written when the job ends, each line with the time it was printed: the section's start and end are
  // the service's own, so the build page shows how long it ran.
  const section = (r: Running) => {
    const endedAt = r.endedAt ?? Date.now();
    o.log.system(`▶ service ${r.def.id}  (${SHELL})`, r.startedAt);
    if (r.output.dropped > 0)
      o.log.system(
        `pushci: service "${r.def.id}": ${r.output.dropped} earlier lines are not shown`,
        r.output.lines[0]?.t ?? r.startedAt,
      );
    for (const l of r.output.lines) o.log.write(l.s, l.m, l.t);
    const e = r.ended;
    const took = `${((endedAt - r.startedAt) / 1000).toFixed(1)} s`;
    o.log.system(
      e
        ? `pushci: service "${r.def.id}" failed: it ended by itself (${e.exitCode === null ? `signal ${e.signal}` : `exit code ${e.exitCode}`}) after ${took}, before the job did`
        : `pushci: service "${r.def.id}" stopped with the job after ${took}`,
      endedAt,
    );
  };

  const stopAll = async () => {
    for (const r of running) {
      await r.step.kill(o.killGraceMs);
      r.endedAt ??= Date.now();
      await r.lines;
    }
    for (const r of running) section(r);
  };

  const waitReady = async (r: Running, port: number, env: Record<string, string>, i: number) => {
    const { def, step } = r;
    const ready = def.ready;
    if (ready === 'none') return;
    const limitMs = def.readyTimeoutSeconds * 1000;
    const started = Date.now();
    let probe: StartedStep | null = null;
    const probeTail = new Tail(READY_TAIL);
    let check: Promise<boolean>;
    if (ready === 'port') {
      check = (async () => {
        for (;;) {
          const up = o.runtime.services
            ? await o.runtime.services.listening(step, port)
            : await connects(port);
          if (up) return true;
          if (Date.now() - started > limitMs || r.ended || o.signal.aborted) return false;
          await sleep(POLL_MS);
        }
      })();
    } else {
      const file = join(o.scripts, `service-${i}-ready.sh`);
      await writeFile(file, `${ready.command}\n`, { mode: 0o600 });
      // One sandbox for all tries: it reaches the service the way the steps will.
      const loop = `until ${shellArgv('"$0"').join(' ')}; do sleep 0.5; done`;
      probe = await o.runtime.start({ argv: [SHELL, '-c', loop, file], cwd: o.cwd, env });
      const lines = Promise.all([
        splitLines(probe.stdout, (l) => probeTail.push('out', l), o.cut),
        splitLines(probe.stderr, (l) => probeTail.push('err', l), o.cut),
      ]);
      const p = probe;
      check = p.exit.then(async (e) => {
        await lines;
        return e.exitCode === 0;
      });
    }
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      check.then((ok) => (ok ? ('ready' as const) : ('timeout' as const))),
      step.exit.then(() => 'ended' as const),
      new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), limitMs))),
      new Promise<'aborted'>((res) => {
        if (o.signal.aborted) res('aborted');
        o.signal.addEventListener('abort', () => res('aborted'), { once: true });
      }),
    ]);
    clearTimeout(timer);
    await probe?.kill(Math.min(o.killGraceMs, 1000));
    if (outcome === 'ready') {
      o.log.system(
        `pushci: service "${def.id}" is ready on 127.0.0.1:${port} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
      return;
    }
    if (outcome === 'aborted') throw new Error(`canceled while service "${def.id}" was starting`);
    const how = readiness(def, port);
    const why =
      outcome === 'ended' || r.ended
        ? `service "${def.id}" ended before it was ${how}: ${describeExit(await step.exit)}`
        : `service "${def.id}" was not ${how} after ${def.readyTimeoutSeconds} s (ready-timeout)`;
    if (probeTail.lines.length > 0) {
      o.log.system(`pushci: the last lines of service "${def.id}"'s ready: command:`);
      for (const l of probeTail.lines) o.log.write(l.s, l.m);
    }
    throw new ServiceError(why);
  };

  const stop = () => (stopping ??= stopAll());
  return {
    env,
    context,
    stop,
    async start() {
      for (const [i, def] of o.defs.entries()) {
        const port = ports.get(def.id)!;
        const file = join(o.scripts, `service-${i}.sh`);
        await writeFile(file, def.run.endsWith('\n') ? def.run : `${def.run}\n`, { mode: 0o600 });
        const svcEnv = { ...o.envFor(def), ...env, PORT: String(port), ...o.runtime.env };
        o.log.system(`pushci: starting service "${def.id}" on 127.0.0.1:${port}`);
        const startedAt = Date.now();
        const step = await o.runtime.start({ argv: shellArgv(file), cwd: o.cwd, env: svcEnv });
        const output = new Tail(KEEP_LINES);
        const r: Running = {
          def,
          step,
          output,
          ended: null,
          startedAt,
          endedAt: null,
          lines: Promise.all([
            splitLines(step.stdout, (l) => output.push('out', l), o.cut),
            splitLines(step.stderr, (l) => output.push('err', l), o.cut),
          ]).then(() => {}),
        };
        void step.exit.then((e) => {
          r.endedAt ??= Date.now();
          if (!stopping) r.ended = e;
        });
        running.push(r);
        try {
          if (o.runtime.services?.privateLoopback) await o.runtime.services.publish(step, port);
          await waitReady(r, port, svcEnv, i);
        } catch (err) {
          if (err instanceof ServiceError) {
            await stop();
            throw err;
          }
          // Sharing the port of a service that already ended fails: say that it ended.
          if (!(await Promise.race([step.exit.then(() => true), sleep(50).then(() => false)]))) throw err;
          await stop();
          throw new ServiceError(
            `service "${def.id}" ended before it was ${readiness(def, port)}: ${describeExit(await step.exit)}`,
          );
        }
      }
    },
  };
}

/** What "ready" means for `def`, as the end of "it was not …". */
function readiness(def: ServiceDef, port: number): string {
  if (def.ready === 'port') return `listening on port ${port}`;
  if (def.ready === 'none') return 'running';
  return `ready (ready: ${def.ready.command})`;
}

function describeExit(e: StepExit): string {
  return e.exitCode === null ? `signal ${e.signal}` : `exit code ${e.exitCode}`;
}
