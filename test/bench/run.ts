/**
 * npm run bench: pushci's speed, each figure the median of several runs, next to a baseline measured in
 * the same run. Prints a table and writes bench-results.json. A benchmark, not a test: it never fails on
 * a figure. BENCH_QUICK=1 runs a smaller version (for trying it).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  copyFileSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { copyPackage } from '../helpers/copy-package.ts';
import { makeRepo } from '../helpers/git.ts';
import { RUNTIME_ACTION, RUNTIME_STEP } from '../helpers/runtime-action.ts';
import { githubPush, githubSignature, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { startReceiver, waitFor, waitForHttp } from '../helpers/receiver.ts';
import { keys } from '../../src/queue/keys.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { makeFloor, runFloor } from './floor.ts';
import { npmCacheBench } from './npm-cache.ts';
import { startCpuBreakdown, type CpuBreakdown } from './cpu-breakdown.ts';
import { cpuMs, waitIdle } from './process-cpu.ts';
import { startWebhookTool } from './webhook-tool.ts';

const QUICK = process.env.BENCH_QUICK === '1';
/** BENCH_ONLY=intake,start,scaling,profile,throughput,throughput-none,dag,deliveries,logs,npm,artifacts runs only those parts (default: all). */
const ONLY = new Set(
  (
    process.env.BENCH_ONLY ??
    'intake,start,scaling,profile,throughput,throughput-none,dag,deliveries,logs,npm,artifacts'
  ).split(','),
);
/** BENCH_RUNS, BENCH_BUILDS and BENCH_MESSAGES shorten a run (the README's table says which were used). */
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3));
const BUILDS = Number(process.env.BENCH_BUILDS ?? (QUICK ? 300 : 2000));
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? (QUICK ? 500 : 2000));
/** BENCH_WORKERS=1 (say): the worker process counts of the trivial-builds part (default 1,2,4; quick 1,2). */
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? (QUICK ? '1,2' : '1,2,4')).split(',').map(Number);
/** BENCH_CONNS=64 (say): the connection counts of the intake part (default 1,16,64). */
const INTAKE_CONNS = (process.env.BENCH_CONNS ?? '1,16,64').split(',').map(Number);
/**
 * BENCH_BASE_ENV=PUSHCI_COMPACT_HEAP=false,PUSHCI_REPLAY_WINDOW=0 (say): settings of the BENCH_BASE
 * receiver (intake) and workers (trivial builds, deliveries) only, so a setting can be A/B-measured with
 * BENCH_BASE set to this same checkout.
 */
const BASE_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_BASE_ENV ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);
const SECONDS = QUICK ? 2 : 5;
/** The unmeasured load each Node server of the intake part gets before its runs. */
const WARM_UP_SECONDS = QUICK ? 1 : 3;
/**
 * The unmeasured builds each worker process of the throughput part gets before its runs: its first job
 * makes the git mirror (the floor's mirrors are made before its clock starts too), its slots make their
 * networks and standbys, and V8 compiles the job path. The measured builds then see a running server.
 */
const THROUGHPUT_WARM_UP_BUILDS = QUICK ? 8 : 20;
const ROOT = join(import.meta.dirname, '../..');
const results: Record<string, unknown> = {};
const table: string[][] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const row = (...cells: Array<string | number>) => {
  table.push(cells.map(String));
  console.log(cells.join(' | '));
};

const SECRET = 'bench-secret';
const CB = whsec();
const repo = makeRepo();
const sha = repo.commits[0]!;
const floor = makeFloor(repo.dir, sha);
/** Jobs one worker process runs at once in the bench (PUSHCI_CONCURRENCY); the floor gets as many lanes. */
const CONCURRENCY = 4;
/** Every process the bench starts, killed when it ends however it ends (a failed part must not leave them). */
const children = new Set<{ kill(signal: NodeJS.Signals): unknown }>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
function track<T extends { proc: { kill(signal: NodeJS.Signals): unknown } }>(p: T): T {
  children.add(p.proc);
  return p;
}

/** What the bench's runs of push-to-first-step compare (PUSHCI_RUNNER of the worker). */
type Runner = 'sandbox' | 'host';

/** The step that prints when it started, in ns, into its log (a sandboxed step cannot write into a folder of the bench). */
const START_STEP = 'echo "BENCH_START $(date +%s%N)"';

/**
 * The bench's pipeline: one job of one step, `build.completed` to `receiverUrl`. The push-to-first-step
 * part needs START_STEP; the trivial builds run `true`, as the floor does (`date` would be one program
 * more per job that the floor does not run).
 */
function pipelines(receiverUrl: string, extra = '', network?: 'none', step = START_STEP): string {
  const dir = mkdtempSync(join(tmpdir(), 'pushci-bench-pipes-'));
  writeFileSync(
    join(dir, 'bench.yml'),
    `name: bench\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n${network ? `    network: ${network}\n` : ''}    steps:\n      - run: ${step}\nnotify:\n  - url: ${receiverUrl}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n${extra}`,
  );
  return dir;
}

async function startReceiverProcess(
  redis: TestRedis,
  pipes: string,
  env: Record<string, string> = {},
  root?: string,
) {
  const port = await freePort();
  const p = track(
    spawnPushci(
      ['serve', '--no-worker'],
      {
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        PUSHCI_QUEUE_PREFIX: redis.prefix,
        PUSHCI_PIPELINES: pipes,
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-bench-data-')),
        GITHUB_WEBHOOK_SECRET: SECRET,
        CB,
        PUSHCI_RETENTION_BUILDS: '1000000',
        // The bench drains queued jobs it created only to fill Redis; the repair sweep must not re-queue them.
        PUSHCI_REPAIR_INTERVAL: '24h',
        // BENCH_RECEIVER_NODE_OPTIONS=--cpu-prof (say) profiles the receivers (written when they stop).
        ...(process.env.BENCH_RECEIVER_NODE_OPTIONS
          ? { NODE_OPTIONS: process.env.BENCH_RECEIVER_NODE_OPTIONS }
          : {}),
        ...env,
      },
      root ? { root, cwd: root } : {},
    ),
  );
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/healthz`, { what: 'pushci' });
  return { ...p, base };
}

function startWorkers(
  redis: TestRedis,
  pipes: string,
  n: number,
  env: Record<string, string> = {},
  root?: string,
): PushciProcess[] {
  return Array.from({ length: n }, () =>
    track(
      spawnPushci(
        ['worker'],
        {
          REDIS_URL: redis.url,
          PUSHCI_QUEUE_PREFIX: redis.prefix,
          PUSHCI_PIPELINES: pipes,
          PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-bench-w-')),
          PUSHCI_NOTIFY_ALLOW: '127.0.0.1/32',
          PUSHCI_CONCURRENCY: String(CONCURRENCY),
          CB,
          // BENCH_WORKER_NODE_OPTIONS=--cpu-prof (say) profiles the workers (written when they stop).
          ...(process.env.BENCH_WORKER_NODE_OPTIONS
            ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS }
            : {}),
          ...env,
        },
        root ? { cwd: root, root } : {},
      ),
    ),
  );
}

/** Empties the jobs queue (build records stay), so a measured push is not queued behind load-test pushes. */
async function drainJobs(redis: TestRedis) {
  await drainQueue(redis, 'jobs');
}

async function drainQueue(redis: TestRedis, name: string) {
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const q = new Queue(name, { connection, prefix: redis.prefix });
  await q.drain(true);
  await q.close();
  connection.disconnect();
}

async function stop(...ps: PushciProcess[]) {
  for (const p of ps) {
    // A profiled process writes its profile when it exits: let it shut down (it exits within seconds).
    const profiled = process.env.BENCH_WORKER_NODE_OPTIONS || process.env.BENCH_RECEIVER_NODE_OPTIONS;
    p.proc.kill(profiled ? 'SIGTERM' : 'SIGKILL');
    await p.exited;
  }
}

/**
 * autocannon against `url` with a signed real push payload and a fresh delivery id per request. Each
 * request is a new push (its own `pushed_at`, so its own bytes and signature), as a forge sends them:
 * the same bytes under a new delivery id would be answered as a replay and create nothing.
 */
/** The `pushed_at` of the next push the intake load sends (unique within a bench run). */
let pushedAt = 1_700_000_000;

async function load(
  url: string,
  connections: number,
  seconds = SECONDS,
  amount?: number,
  path = '/webhooks/github',
) {
  const [head, tail, ...extra] = JSON.stringify(githubPush({ before: sha, after: sha })).split(
    /"pushed_at":\d+/,
  );
  if (tail === undefined || extra.length > 0) throw new Error('the push payload has no single pushed_at');
  const push = () => {
    const body = `${head}"pushed_at":${pushedAt++}${tail}`;
    const headers = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': githubSignature(body, SECRET),
      'x-github-delivery': randomUUID(),
    };
    return [headers, body] as const;
  };
  const [headers, body] = push();
  const r = await autocannon({
    url: `${url}${path}`,
    method: 'POST',
    connections,
    ...(amount ? { amount } : { duration: seconds }),
    body,
    headers,
    setupClient: (client) => {
      client.setHeadersAndBody(...push());
      client.on('response', () => client.setHeadersAndBody(...push()));
    },
  });
  const ok = r['2xx'];
  return {
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.non2xx + r.errors,
    answered: ok,
    seconds: r.duration,
  };
}

async function rssOf(pid: number): Promise<number> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) * 1024;
}

/** A baseline server (test/bench/<file>) as its own process, so it gets a core of its own like pushci. */
async function startBaseline(file: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const proc = spawn(process.execPath, [join(import.meta.dirname, file)], {
    env: { PATH: process.env.PATH!, PORT: String(port), SECRET, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, { ms: 10_000, what: file, anyStatus: true });
  return { proc, url };
}

type Load = Awaited<ReturnType<typeof load>>;
/** A load run with the CPU the server used per answered request (and Redis, where it stores). */
type Measured = Load & {
  cpuMsPerReq: number;
  redisMsPerReq: number | null;
  /** How long the server kept working after its last answer (the `webhook` tool's commands). */
  drainMs: number;
  /** Requests whose work was done, per second from the start of the load to the end of that work. */
  doneRps: number;
};

async function measured(
  server: { pid: number; children?: boolean; drain?: boolean },
  redis: TestRedis | null,
  run: () => Promise<Load>,
): Promise<Measured> {
  const opts = { children: server.children ?? false };
  const rpid = redis?.pid?.();
  const [c0, r0] = [cpuMs(server.pid, opts), rpid ? cpuMs(rpid) : 0];
  const x = await run();
  // The `webhook` tool spawns its commands after answering: its work ends when it is idle again, and
  // the next measurement must not share the machine with its backlog.
  const drainMs = server.drain ? await waitIdle(server.pid) : 0;
  const n = Math.max(1, x.answered);
  return {
    ...x,
    drainMs,
    doneRps: x.answered / (x.seconds + drainMs / 1000),
    cpuMsPerReq: (cpuMs(server.pid, opts) - c0) / n,
    redisMsPerReq: rpid ? (cpuMs(rpid) - r0) / n : null,
  };
}

const summary = (xs: Measured[]) => ({
  rps: median(xs.map((x) => x.rps)),
  p50: median(xs.map((x) => x.p50)),
  p99: median(xs.map((x) => x.p99)),
  cpuMsPerReq: median(xs.map((x) => x.cpuMsPerReq)),
  redisMsPerReq: xs[0]?.redisMsPerReq == null ? null : median(xs.map((x) => x.redisMsPerReq!)),
  drainMs: median(xs.map((x) => x.drainMs)),
  doneRps: median(xs.map((x) => x.doneRps)),
});
const show = (x: ReturnType<typeof summary>) => `${x.rps.toFixed(0)}/s (p50 ${x.p50} ms, p99 ${x.p99} ms)`;
const cpu = (x: ReturnType<typeof summary>) =>
  `CPU ${x.cpuMsPerReq.toFixed(3)} ms/request${x.redisMsPerReq === null ? '' : ` + Redis ${x.redisMsPerReq.toFixed(3)} ms`}`;

/**
 * Intake at each connection count, next to two baselines measured in the same run, interleaved run by
 * run: `bare` verifies the HMAC and parses the JSON (the ceiling for any Node receiver), `durable` also
 * stores the delivery in Redis before answering (the floor for any receiver whose 2xx means "stored").
 * Each row also gives the CPU time per request of the server (and of Redis where it stores), which
 * depends much less on the machine's load than a rate.
 */
async function intake(
  redis: TestRedis,
  label: string,
  conns = INTAKE_CONNS,
  /** Called after each pushci run with the time it started (the scaling curve undoes what it stored). */
  afterRun?: (since: number) => Promise<void>,
) {
  const recv = await startReceiver();
  const pipes = pipelines(recv.url);
  const server = await startReceiverProcess(redis, pipes);
  // BENCH_BASE=<another checkout>: its receiver too, run by run after this one's (an A/B under one load).
  const old = process.env.BENCH_BASE
    ? await startReceiverProcess(redis, pipes, BASE_ENV, process.env.BENCH_BASE)
    : null;
  const bare = await startBaseline('baseline-server.ts');
  const durable = await startBaseline('baseline-server.ts', {
    REDIS_URL: redis.url,
    PREFIX: `${redis.prefix}:durable-baseline`,
  });
  // The `webhook` tool is compared at 64 connections (the issue's target) when it is installed.
  const tool = conns.includes(64) ? await startWebhookTool(SECRET).catch(() => null) : null;
  const out: Record<string, unknown> = {};
  // Each Node server gets a load it is not measured on first (JIT, V8 sizing its heap for the load), so
  // every run measures it warm; the `webhook` tool (Go) needs none, and its backlog would only slow the
  // next runs down.
  const warmSince = Date.now();
  for (const url of [bare.url, durable.url, server.base, ...(old ? [old.base] : [])])
    await load(url, Math.max(...conns), WARM_UP_SECONDS);
  await afterRun?.(warmSince);
  for (const c of conns) {
    const ours: Measured[] = [];
    const base: Measured[] = [];
    const floor: Measured[] = [];
    const classic: Measured[] = [];
    const previous: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      base.push(await measured({ pid: bare.proc.pid! }, null, () => load(bare.url, c)));
      floor.push(await measured({ pid: durable.proc.pid! }, redis, () => load(durable.url, c)));
      if (tool && c === 64)
        classic.push(
          await measured({ pid: tool.proc.pid!, children: true, drain: true }, null, () =>
            load(tool.url, c, SECONDS, undefined, '/hooks/push'),
          ),
        );
      // With BENCH_BASE the two receivers take turns going first, so neither always runs right after
      // the other (next to its leftover work: Redis's appends, the machine's other load moving).
      const turns: Array<[PushciProcess & { base: string }, Measured[]]> = [[server, ours]];
      if (old) turns[i % 2 === 0 ? 'push' : 'unshift']([old, previous]);
      for (const [receiver, samples] of turns) {
        const since = Date.now();
        samples.push(await measured({ pid: receiver.proc.pid! }, redis, () => load(receiver.base, c)));
        await afterRun?.(since);
      }
    }
    const [o, b, d] = [summary(ours), summary(base), summary(floor)];
    const w = classic.length > 0 ? summary(classic) : null;
    // Every run's figures next to the medians: an A/B's spread says how far its medians can be read.
    const runs = (xs: Measured[]) =>
      xs.map(({ rps, cpuMsPerReq, redisMsPerReq }) => ({ rps, cpuMsPerReq, redisMsPerReq }));
    out[`c${c}`] = {
      pushci: { ...o, errors: ours.map((x) => x.errors), runs: runs(ours) },
      baseline: { ...b, runs: runs(base) },
      durableBaseline: { ...d, errors: floor.map((x) => x.errors), runs: runs(floor) },
      ...(w ? { webhookTool: { ...w, errors: classic.map((x) => x.errors) } } : {}),
      ...(previous.length > 0
        ? { base: { ...summary(previous), errors: previous.map((x) => x.errors), runs: runs(previous) } }
        : {}),
    };
    if (previous.length > 0) {
      const p = summary(previous);
      row(
        `intake ${label}, ${c} conn, A/B`,
        `${show(o)}, ${cpu(o)}`,
        `BENCH_BASE ${show(p)}, ${cpu(p)}`,
        `pushci ${((100 * o.rps) / p.rps).toFixed(0)}% of its rate`,
      );
    }
    row(
      `intake ${label}, ${c} conn`,
      `${show(o)}, ${cpu(o)}`,
      `bare baseline ${show(b)}, ${cpu(b)}: pushci ${((100 * o.rps) / b.rps).toFixed(0)}%`,
      `durable baseline ${show(d)}, ${cpu(d)}: pushci ${((100 * o.rps) / d.rps).toFixed(0)}%`,
    );
    if (w)
      row(
        `intake ${label}, ${c} conn, vs the webhook tool`,
        show(o),
        `webhook answered ${show(w)}; its /bin/true runs ended ${(w.drainMs / 1000).toFixed(1)} s after the load: ${w.doneRps.toFixed(0)}/s run; ${cpu(w)} with its commands`,
        `pushci ${(o.rps / w.rps).toFixed(2)}x its answers, ${(o.rps / w.doneRps).toFixed(2)}x its runs`,
      );
  }
  tool?.proc.kill('SIGKILL');
  out.rssUnderLoad = await rssOf(server.proc.pid!);
  row(
    `server RSS after intake load, ${label}`,
    `${((out.rssUnderLoad as number) / 2 ** 20).toFixed(0)} MiB`,
    `after ${conns.length * RUNS} load runs of ${SECONDS} s`,
    '',
  );
  bare.proc.kill('SIGKILL');
  durable.proc.kill('SIGKILL');
  await stop(server, ...(old ? [old] : []));
  await drainJobs(redis);
  await recv.close();
  return out;
}

/** When the step of build `id` started (ns since the epoch), from its log in Redis, or null. */
async function stepStart(client: Redis, redis: TestRedis, id: string): Promise<bigint | null> {
  const lines = await client.lrange(keys(redis.prefix).log(id, 'j'), 0, -1);
  const m = lines.map((l) => /BENCH_START (\d+)/.exec(l)).find(Boolean);
  return m ? BigInt(m[1]!) : null;
}

async function pushToStart(
  redis: TestRedis,
  label: string,
  pushes: number,
  runner: Runner = 'sandbox',
  root?: string,
) {
  const recv = await startReceiver();
  const pipes = pipelines(recv.url);
  const server = await startReceiverProcess(redis, pipes);
  const workers = startWorkers(redis, pipes, 1, { PUSHCI_RUNNER: runner }, root);
  const client = new Redis(redis.url);
  await sleep(2000);
  // Warm: the first build fills the git mirror.
  const warm = await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
  await waitFor(() => stepStart(client, redis, warm.json.builds[0].id), 30_000, 'warm-up build');
  const lat: number[] = [];
  for (let i = 0; i < pushes; i++) {
    const t0 = process.hrtime.bigint();
    const wall0 = BigInt(Date.now()) * 1_000_000n;
    const r = await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
    const id = r.json.builds[0].id as string;
    const started = await waitFor(() => stepStart(client, redis, id), 30_000, 'the step');
    void t0;
    lat.push(Number(started - wall0) / 1e6);
  }
  client.disconnect();
  row(
    `push to first step, ${runner} runner, ${label}`,
    `median ${median(lat).toFixed(1)} ms`,
    `p99 ${pct(lat, 99).toFixed(1)} ms`,
    `${pushes} pushes, idle worker`,
  );
  await stop(server, ...workers);
  await recv.close();
  return { median: median(lat), p99: pct(lat, 99), n: pushes };
}

/** Stores exactly `target` queued builds (their jobs then drained: only the records and indexes stay). */
async function fill(redis: TestRedis, target: number) {
  const client = new Redis(redis.url);
  const recv = await startReceiver();
  const server = await startReceiverProcess(redis, pipelines(recv.url, ''));
  const k = keys(redis.prefix);
  for (let n = await client.zcard(k.index); n < target; n = await client.zcard(k.index))
    await load(server.base, 64, 0, target - n);
  const n = await client.zcard(k.index);
  client.disconnect();
  await stop(server);
  await drainJobs(redis);
  await recv.close();
  return n;
}

/** Removes the builds created since `since` (ms), so the next run starts at the same size again. */
async function trimSince(redis: TestRedis, since: number) {
  const client = new Redis(redis.url);
  const k = keys(redis.prefix);
  const ids = await client.zrangebyscore(k.index, String(since), '+inf');
  for (let i = 0; i < ids.length; i += 1000) {
    const batch = client.pipeline();
    for (const id of ids.slice(i, i + 1000)) batch.del(k.build(id));
    await batch.exec();
  }
  for (const index of [k.index, k.active, k.pipelineIndex('bench')])
    await client.zremrangebyscore(index, String(since), '+inf');
  client.disconnect();
  await drainJobs(redis);
}

async function throughput(
  redis: TestRedis,
  workers: number,
  builds: number,
  network?: 'none',
  root?: string,
) {
  const recv = await startReceiver();
  const pipes = pipelines(recv.url, '', network, "'true'");
  const server = await startReceiverProcess(redis, pipes);
  // BENCH_JOB_TIMINGS=1: where the jobs' milliseconds go under this load too (the profile part has one idle job at a time).
  const timed = process.env.BENCH_JOB_TIMINGS === '1';
  const ws = startWorkers(
    redis,
    pipes,
    workers,
    { ...(timed ? { PUSHCI_JOB_TIMINGS: 'true' } : {}), ...(root ? BASE_ENV : {}) },
    root,
  );
  const client = new Redis(redis.url);
  await sleep(2000);
  const push = async () =>
    (await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET)).json.builds[0].id;
  const warm = THROUGHPUT_WARM_UP_BUILDS * workers;
  await Promise.all(Array.from({ length: warm }, push));
  await waitFor(() => recv.got.length >= warm, 5 * 60_000, 'the warm-up builds');
  const warmed = recv.got.length;
  const cpu = await startCpuBreakdown({
    receiver: server.proc.pid!,
    workers: ws.map((w) => w.proc.pid!),
    redis: client,
  });
  const t0 = Date.now();
  const ids = new Set<string>();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (ids.size < builds) ids.add(await push());
    }),
  );
  await waitFor(() => recv.got.length - warmed >= ids.size, 30 * 60_000, 'all build.completed');
  const s = (Date.now() - t0) / 1000;
  const breakdown = await cpu.stop(ids.size);
  client.disconnect();
  await stop(server, ...ws);
  await recv.close();
  const phasesMs = timed ? phaseMedians(jobTimings(ws).filter((l) => ids.has(l.build_id))) : undefined;
  return { builds: ids.size, seconds: s, perSecond: ids.size / s, breakdown, phasesMs };
}

/** The workers' `job timings` log lines (PUSHCI_JOB_TIMINGS=true), in the order they were logged. */
function jobTimings(ws: PushciProcess[]) {
  return ws.flatMap((w) =>
    w.output
      .join('')
      .split('\n')
      .filter((l) => l.includes('"job timings"'))
      .map((l) => JSON.parse(l) as { build_id: string; queued_ms: number; ms: Record<string, number> }),
  );
}

/** The median of each phase over `lines`, the time queued first. */
function phaseMedians(lines: ReturnType<typeof jobTimings>): Record<string, number> {
  const phases = new Map<string, number[]>([['dequeue (queued until picked up)', []]]);
  for (const l of lines) {
    phases.get('dequeue (queued until picked up)')!.push(l.queued_ms);
    for (const [k, v] of Object.entries(l.ms)) phases.set(k, [...(phases.get(k) ?? []), v]);
  }
  const out: Record<string, number> = {};
  for (const [k, xs] of phases) out[k] = median(xs);
  return out;
}

/**
 * Where a trivial job's milliseconds go: `builds` builds one after another on one idle worker with
 * PUSHCI_JOB_TIMINGS on; the median of each phase from the workers' `job timings` log lines.
 */
async function profile(redis: TestRedis, builds: number) {
  const recv = await startReceiver();
  const pipes = pipelines(recv.url, '', undefined, "'true'");
  const server = await startReceiverProcess(redis, pipes);
  const [w] = startWorkers(redis, pipes, 1, { PUSHCI_JOB_TIMINGS: 'true' });
  await sleep(2000);
  for (let i = 0; i < builds + 1; i++) {
    const before = recv.got.length;
    await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
    await waitFor(() => recv.got.length > before, 60_000, 'the build');
  }
  await stop(server, w!);
  await recv.close();
  const lines = jobTimings([w!]).slice(1); // the first build fills the git mirror
  const out = phaseMedians(lines);
  const total = Object.values(out).reduce((a, b) => a + b, 0);
  for (const [k, v] of Object.entries(out))
    row(
      `trivial job profile: ${k}`,
      `${v.toFixed(1)} ms`,
      `${((100 * v) / total).toFixed(0)}%`,
      `median of ${lines.length} jobs`,
    );
  row(
    'trivial job profile: sum of the medians',
    `${total.toFixed(1)} ms`,
    '',
    'one idle worker, PUSHCI_JOB_TIMINGS=true',
  );
  return { medianMs: out, sumMs: total, jobs: lines.length };
}

/** The medians of several runs' CPU breakdowns, part by part. */
function medianBreakdown(xs: CpuBreakdown[]) {
  const parts = Object.keys(xs[0]!.cpuMsPerBuild);
  const m = (f: (x: CpuBreakdown) => number | null) => {
    const v = xs.map(f).filter((x): x is number => x !== null);
    return v.length > 0 ? median(v) : null;
  };
  return {
    cpuMsPerBuild: Object.fromEntries(parts.map((p) => [p, m((x) => x.cpuMsPerBuild[p]!)])),
    totalCpuMsPerBuild: m((x) => x.totalCpuMsPerBuild),
    workerLoopCpuMsPerBuild: m((x) => x.workerLoopCpuMsPerBuild),
    spawnerCpuMsPerBuild: m((x) => x.spawnerCpuMsPerBuild ?? 0),
    execsPerBuild: m((x) => x.execsPerBuild),
    forksPerBuild: m((x) => x.forksPerBuild),
    redisCommandsPerBuild: m((x) => x.redisCommandsPerBuild),
    redisSyncsPerBuild: m((x) => x.redisSyncsPerBuild),
    redisSyncMsPerBuild: m((x) => x.redisSyncMsPerBuild),
    topRedisCommands: xs.at(-1)!.topRedisCommands,
  };
}

/**
 * Trivial builds per second with `workers` worker processes, each run next to the per-job floor at the
 * same concurrency (workers x PUSHCI_CONCURRENCY lanes), interleaved run by run; with BENCH_BASE=<another
 * checkout>, its workers too (an A/B under the same load). Also where the CPU went, per build.
 */
async function throughputVsFloor(redis: TestRedis, workers: number, builds: number, network?: 'none') {
  const variants: Array<[string, string | undefined]> = process.env.BENCH_BASE
    ? [
        ['base', process.env.BENCH_BASE],
        ['', undefined],
      ]
    : [['', undefined]];
  const ours = new Map(variants.map(([name]) => [name, [] as number[]]));
  const cpus = new Map(variants.map(([name]) => [name, [] as CpuBreakdown[]]));
  const phases = new Map(variants.map(([name]) => [name, [] as Array<Record<string, number>>]));
  const floors: number[] = [];
  const floorCpu: number[] = [];
  const lanes = workers * CONCURRENCY;
  const floorJobs = QUICK ? 100 : 300;
  for (let i = 0; i < RUNS; i++) {
    // The floor's loops are the bench's children: what they used is in its cutime once they are reaped.
    const c0 = cpuMs(process.pid, { children: true }) - cpuMs(process.pid);
    floors.push(floorJobs / ((await runFloor(floor, floorJobs, lanes)) / 1000));
    floorCpu.push((cpuMs(process.pid, { children: true }) - cpuMs(process.pid) - c0) / floorJobs);
    for (const [name, root] of variants) {
      const t = await throughput(redis, workers, builds, network, root);
      ours.get(name)!.push(t.perSecond);
      cpus.get(name)!.push(t.breakdown);
      if (t.phasesMs) phases.get(name)!.push(t.phasesMs);
    }
  }
  const f = median(floors);
  const out: Record<string, unknown> = {
    floorPerSecond: f,
    floorRuns: floors,
    floorCpuMsPerJob: median(floorCpu),
    lanes,
  };
  for (const [name] of variants) {
    const o = median(ours.get(name)!);
    const b = medianBreakdown(cpus.get(name)!);
    const tag = name ? `[${name}] ` : '';
    const what = `${builds} trivial builds (sandbox on${network ? `, network: ${network}` : ''}, build.completed delivered), ${workers} worker process(es)`;
    row(
      `${tag}${what}`,
      `${o.toFixed(1)} builds/s`,
      `floor (worktree add + bwrap bash -c true + worktree remove, ${lanes} lanes) ${f.toFixed(1)} jobs/s`,
      `pushci ${((100 * o) / f).toFixed(0)}% of the floor`,
    );
    row(
      `${tag}  CPU per build, ${workers} worker process(es)${network ? `, network: ${network}` : ''}`,
      `${b.totalCpuMsPerBuild!.toFixed(1)} ms (floor ${median(floorCpu).toFixed(1)} ms per job)`,
      `${Object.entries(b.cpuMsPerBuild)
        .map(([k, v]) => `${k} ${v!.toFixed(1)}`)
        .join(
          ', ',
        )} (of the worker's, its event loop ${b.workerLoopCpuMsPerBuild!.toFixed(1)}; of its programs', its spawner ${b.spawnerCpuMsPerBuild!.toFixed(1)})`,
      `${b.execsPerBuild === null ? '' : `${b.execsPerBuild.toFixed(1)} programs run, ${b.forksPerBuild!.toFixed(1)} forks, `}${b.redisCommandsPerBuild!.toFixed(0)} Redis commands per build${b.redisSyncsPerBuild === null ? '' : `, Redis fsyncs ${b.redisSyncsPerBuild.toFixed(1)} (${b.redisSyncMsPerBuild!.toFixed(1)} ms)`}`,
    );
    // Each phase's median over the runs of the runs' medians (BENCH_JOB_TIMINGS=1).
    const runsPhases = phases.get(name)!;
    const phasesMs: Record<string, number> = {};
    for (const k of Object.keys(runsPhases[0] ?? {})) phasesMs[k] = median(runsPhases.map((p) => p[k] ?? 0));
    if (runsPhases.length > 0) {
      // The time queued is the backlog of pushes sent faster than they run, not a cost of the job.
      const { 'dequeue (queued until picked up)': _queued, ...ran } = phasesMs;
      row(
        `${tag}  a job's time under this load (medians)`,
        `${Object.values(ran)
          .reduce((a, v) => a + v, 0)
          .toFixed(1)} ms from its start to its result`,
        Object.entries(ran)
          .filter(([, v]) => v >= 0.5)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', '),
        '',
      );
    }
    const key = name ? `base` : 'pushci';
    const res = {
      perSecond: o,
      runs: ours.get(name)!,
      ofFloor: o / f,
      cpu: b,
      cpuRuns: cpus.get(name)!,
      ...(runsPhases.length > 0 ? { phasesMs } : {}),
    };
    if (name) out[key] = res;
    else Object.assign(out, res);
  }
  return out;
}

/**
 * The DAG overhead: a 20-job pipeline (a first job, a fan-out of 18, a last job needing all 18) of
 * `true` steps, from the push until its build.completed arrived, minus the floor's time for the same 20
 * jobs in the same shape (1, then 18 over the worker's lanes, then 1), measured in the same run.
 */
async function dag(redis: TestRedis) {
  const recv = await startReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'pushci-bench-pipes-'));
  const fan = Array.from({ length: 18 }, (_, i) => `f${i + 1}`);
  const jobs = [
    `  first:\n    steps:\n      - run: 'true'\n`,
    ...fan.map((f) => `  ${f}:\n    needs: [first]\n    steps:\n      - run: 'true'\n`),
    `  last:\n    needs: [${fan.join(', ')}]\n    steps:\n      - run: 'true'\n`,
  ].join('');
  writeFileSync(
    join(dir, 'dag.yml'),
    `name: dag\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\njobs:\n${jobs}notify:\n  - url: ${recv.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
  );
  const server = await startReceiverProcess(redis, dir);
  const ws = startWorkers(redis, dir, 1);
  await sleep(2000);
  // Warm: the first build fills the worker's git mirror.
  await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
  await waitFor(() => recv.got.length >= 1, 120_000, 'the warm-up DAG build');
  const walls: number[] = [];
  const floors: number[] = [];
  for (let i = 0; i < RUNS + 2; i++) {
    floors.push(
      (await runFloor(floor, 1, 1)) +
        (await runFloor(floor, 18, CONCURRENCY)) +
        (await runFloor(floor, 1, 1)),
    );
    const before = recv.got.length;
    const t0 = performance.now();
    await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
    await waitFor(() => recv.got.length > before, 120_000, 'the DAG build');
    walls.push(performance.now() - t0);
  }
  await stop(server, ...ws);
  await recv.close();
  const [w, f] = [median(walls), median(floors)];
  row(
    `DAG of 20 jobs (1, fan-out of 18, 1), 1 worker x ${CONCURRENCY}`,
    `push to build.completed ${w.toFixed(0)} ms`,
    `floor for the same 20 jobs ${f.toFixed(0)} ms`,
    `overhead ${(w - f).toFixed(0)} ms`,
  );
  return { wallMs: w, walls, floorMs: f, floors, overheadMs: w - f };
}

/**
 * Logs: one step prints 200,000 lines as fast as it can. Lines stored per second (from the first
 * line's timestamp until the job's Redis list holds all of them), and the delay of the live tail the
 * build page reads (`GET /api/builds/:id/jobs/:job/log?follow=1`): when each line arrived at the
 * follower minus the timestamp the worker gave it.
 */
async function logs(redis: TestRedis, label = '', root?: string, runs = RUNS) {
  const LINES = 200_000;
  const recv = await startReceiver();
  const dir = mkdtempSync(join(tmpdir(), 'pushci-bench-pipes-'));
  writeFileSync(
    join(dir, 'logs.yml'),
    `name: logs\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: seq -f 'bench line %g' 1 ${LINES}\nnotify:\n  - url: ${recv.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
  );
  const TOKEN = 'bench-api-token';
  const server = await startReceiverProcess(redis, dir, { PUSHCI_API_TOKEN: TOKEN }, root);
  const ws = startWorkers(redis, dir, 1, { PUSHCI_LOG_MAX_BYTES: String(64 * 2 ** 20) }, root);
  const client = new Redis(redis.url);
  await sleep(2000);
  const rates: number[] = [];
  const spans: Array<{ readMs: number; storedMs: number; followedMs: number }> = [];
  // CPU per 1,000 lines of the receiver (the follower), the worker and Redis: load moves the delays, much
  // less what each line costs.
  const cpuPerKLines: Array<{ receiver: number; worker: number; redis: number }> = [];
  const rpid = redis.pid?.();
  const p99s: number[] = [];
  const p50s: number[] = [];
  for (let i = 0; i < runs; i++) {
    const before = recv.got.length;
    const cpu0 = [cpuSeconds(server.proc.pid!), cpuSeconds(ws[0]!.proc.pid!), rpid ? cpuSeconds(rpid) : 0];
    const r = await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
    const id = r.json.builds[0].id as string;
    const key = keys(redis.prefix).log(id, 'j');
    // The follower, as the build page opens it.
    const delays: number[] = [];
    let seen = 0;
    let lastSeen = 0;
    const following = (async () => {
      const res = await fetch(`${server.base}/api/builds/${id}/jobs/j/log?follow=1`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const now = Date.now();
        const text = rest + decoder.decode(chunk, { stream: true });
        const lines = text.split('\n');
        rest = lines.pop()!;
        for (const l of lines) {
          if (!l.includes(' bench line ')) continue;
          seen++;
          lastSeen = now;
          delays.push(now - Date.parse(l.slice(0, 24)));
        }
      }
    })();
    let done = 0;
    await waitFor(
      async () => {
        if ((await client.llen(key)) < LINES) return recv.got.length > before;
        done = Date.now();
        return true;
      },
      600_000,
      'all log lines stored',
    );
    const stamp = (l: string) => Number(l.slice(0, l.indexOf('\t')));
    const body = (await client.lrange(key, 0, -1)).filter((l) => l.includes('\tbench line '));
    const [t0, t1] = [stamp(body[0]!), stamp(body.at(-1)!)];
    const rate = LINES / ((done - t0) / 1000);
    await waitFor(() => recv.got.length > before, 120_000, 'the log build');
    await following;
    const cpu1 = [cpuSeconds(server.proc.pid!), cpuSeconds(ws[0]!.proc.pid!), rpid ? cpuSeconds(rpid) : 0];
    const per = (k: number) => Math.round(((cpu1[k]! - cpu0[k]!) * 1e9) / LINES) / 1000;
    cpuPerKLines.push({ receiver: per(0), worker: per(1), redis: per(2) });
    rates.push(rate);
    // Where the delay comes from: the worker reading the step's output, storing it, the follower.
    spans.push({ readMs: t1 - t0, storedMs: done - t0, followedMs: lastSeen - t0 });
    p50s.push(pct(delays, 50));
    p99s.push(pct(delays, 99));
    if (seen < LINES) console.error(`the follower saw ${seen} of ${LINES} lines`);
  }
  client.disconnect();
  await stop(server, ...ws);
  await recv.close();
  const out = {
    linesPerSecond: median(rates),
    tailP50Ms: median(p50s),
    tailP99Ms: median(p99s),
    rates,
    p99s,
    spans,
    cpuMsPerKLines: {
      receiver: median(cpuPerKLines.map((c) => c.receiver)),
      worker: median(cpuPerKLines.map((c) => c.worker)),
      redis: median(cpuPerKLines.map((c) => c.redis)),
    },
  };
  row(
    `${label}a step printing ${LINES} lines`,
    `${out.linesPerSecond.toFixed(0)} lines/s stored`,
    `live tail delay p50 ${out.tailP50Ms} ms, p99 ${out.tailP99Ms} ms`,
    `follow stream of the build page; CPU ms per 1,000 lines: receiver ${out.cpuMsPerKLines.receiver}, worker ${out.cpuMsPerKLines.worker}, Redis ${out.cpuMsPerKLines.redis}`,
  );
  return out;
}

type LogsResult = Awaited<ReturnType<typeof logs>>;

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** Calls of every Redis command so far (INFO commandstats), summed. */
async function redisCalls(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) n += Number(m[1]);
  return n;
}

/**
 * Status webhooks per second to a live receiver: alone, next to a receiver that is down (connection
 * refused), and next to one that accepts connections and never answers (each attempt waits for
 * PUSHCI_NOTIFY_TIMEOUT_MS). The messages are queued first (`[skip ci]` pushes, each build sending one
 * build.completed to each endpoint) with the deliveries queue paused, then the queue is resumed and the
 * time until the live receiver has them all is measured: the intake is not part of the figure. Redis
 * commands and the worker's and Redis's CPU per message are counted over the drain (load-independent, or
 * nearly).
 */
async function deliveries(redis: TestRedis, messages: number) {
  const up = await startReceiver();
  const downPort = await freePort(); // nothing listens: connection refused, retried later
  const hung = new Set<ServerResponse>();
  const hanging = createServer((req, res) => {
    hung.add(res);
    res.on('close', () => hung.delete(res));
    req.resume();
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  const others = {
    alone: null,
    down: `http://127.0.0.1:${downPort}/down`,
    hanging: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hang`,
  };
  const dir = mkdtempSync(join(tmpdir(), 'pushci-bench-pipes-'));
  const endpoint = (url: string) =>
    `  - url: ${url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`;
  const client = new Redis(redis.url);
  const redisPid = Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
  const queue = new Queue('deliveries', { connection: client, prefix: redis.prefix });
  const out: Record<string, unknown> = {};
  // BENCH_BASE=<another checkout of pushci>: its worker is measured too, run by run interleaved with this
  // one's, against the same server, Redis and receivers (an A/B comparison under the same load).
  const variants: Array<[string, string | undefined]> = process.env.BENCH_BASE
    ? [
        ['base', process.env.BENCH_BASE],
        ['', undefined],
      ]
    : [['', undefined]];
  const alone = new Map<string, number[]>();
  // BENCH_DELIVERY_MODES=alone (say): only those of the three runs (alone,down,hanging).
  const modes = new Set((process.env.BENCH_DELIVERY_MODES ?? 'alone,down,hanging').split(','));
  for (const [mode, other] of Object.entries(others)) {
    if (!modes.has(mode)) continue;
    writeFileSync(
      join(dir, 'd.yml'),
      `name: d\nrepository: octo-org/*\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n${other ? endpoint(other) : ''}${endpoint(up.url)}`,
    );
    const server = await startReceiverProcess(redis, dir);
    const samples = new Map(
      variants.map(([name]) => [
        name,
        { rates: [] as number[], calls: [] as number[], workerCpu: [] as number[], redisCpu: [] as number[] },
      ]),
    );
    for (let run = 0; run < RUNS; run++) {
      for (const [name, root] of variants) {
        const s = samples.get(name)!;
        await queue.pause();
        const [w] = startWorkers(
          redis,
          dir,
          1,
          {
            PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,1s,5s,30s',
            ...(root ? BASE_ENV : {}),
            ...(process.env.PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY
              ? { PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY: process.env.PUSHCI_NOTIFY_ENDPOINT_CONCURRENCY }
              : {}),
          },
          root,
        );
        // [skip ci]: the build is recorded as skipped at once and only its build.completed goes out.
        let sent = 0;
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            while (sent < messages) {
              sent++;
              await sendGithub(
                server.base,
                githubPush({ before: sha, after: sha, message: 'bench [skip ci]' }),
                SECRET,
              );
            }
          }),
        );
        await sleep(1500); // the worker has started and is waiting on the paused queue
        const before = up.got.length;
        const c0 = await redisCalls(client);
        const w0 = cpuSeconds(w!.proc.pid!);
        const r0 = cpuSeconds(redisPid);
        const t0 = Date.now();
        await queue.resume();
        await waitFor(() => up.got.length - before >= messages, 10 * 60_000, 'deliveries');
        const seconds = (Date.now() - t0) / 1000;
        s.rates.push(messages / seconds);
        s.calls.push(((await redisCalls(client)) - c0) / messages);
        s.workerCpu.push(((cpuSeconds(w!.proc.pid!) - w0) * 1000) / messages);
        s.redisCpu.push(((cpuSeconds(redisPid) - r0) * 1000) / messages);
        if (mode === 'alone') alone.set(name, [...(alone.get(name) ?? []), messages / seconds]);
        await stop(w!);
        // What is left (the dead endpoint's retries) must not slow the next run down.
        await drainQueue(redis, 'deliveries');
      }
    }
    for (const [name] of variants) {
      const s = samples.get(name)!;
      const rate = median(s.rates);
      const key = name ? `${mode}_${name}` : mode;
      out[key] = rate;
      out[`${key}Runs`] = {
        rates: s.rates,
        redisCallsPerMessage: s.calls,
        workerCpuMsPerMessage: s.workerCpu,
        redisCpuMsPerMessage: s.redisCpu,
      };
      const label = { alone: '', down: ', another receiver down', hanging: ', another receiver hangs' }[mode];
      const cost = `${median(s.calls).toFixed(1)} Redis commands, worker CPU ${median(s.workerCpu).toFixed(2)} ms, Redis CPU ${median(s.redisCpu).toFixed(2)} ms per message`;
      row(
        `${name ? `[${name}] ` : ''}outbound deliveries to a local receiver${label}`,
        `${rate.toFixed(0)} messages/s`,
        `${messages} queued messages drained, median of ${RUNS} runs; ${cost}`,
        !other
          ? 'signed, attempt logged'
          : alone.has(name)
            ? `${((100 * rate) / median(alone.get(name)!)).toFixed(0)}% of its rate alone`
            : 'not run alone',
      );
    }
    await stop(server);
    await drainQueue(redis, 'deliveries');
  }
  await queue.close();
  client.disconnect();
  await up.close();
  hanging.closeAllConnections();
  hanging.close();
  return out;
}

async function memory(redis: TestRedis) {
  const client = new Redis(redis.url);
  const recv = await startReceiver();
  const server = await startReceiverProcess(redis, pipelines(recv.url));
  await sleep(1000);
  const idle = await rssOf(server.proc.pid!);
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info('memory'))![1]);
  const builds = await client.zcard(`${redis.prefix}:index:builds`);
  const m0 = await used();
  for (let i = 0; i < 1000; i++)
    await sendGithub(server.base, githubPush({ before: sha, after: sha }), SECRET);
  const perBuild = ((await used()) - m0) / 1000;
  const key = `${redis.prefix}:log:bench:j`;
  const m1 = await used();
  const lines = Array.from(
    { length: 10_000 },
    (_, i) => `${Date.now()}\tout\tline ${i} of a typical build log, about sixty bytes`,
  );
  for (let i = 0; i < lines.length; i += 1000) await client.rpush(key, ...lines.slice(i, i + 1000));
  const perLine = ((await used()) - m1) / lines.length;
  await client.del(key);
  row('server RSS idle', `${(idle / 2 ** 20).toFixed(0)} MiB`, `with ${builds} builds recorded`, '');
  row(
    'Redis memory per build (queued, 1 job)',
    `${(perBuild / 1024).toFixed(1)} KiB`,
    'per log line (60 chars)',
    `${perLine.toFixed(0)} bytes`,
  );
  client.disconnect();
  await stop(server);
  await drainJobs(redis);
  await recv.close();
  return {
    idleRss: idle,
    buildsRecorded: builds,
    redisBytesPerBuild: perBuild,
    redisBytesPerLogLine: perLine,
  };
}

/**
 * The artifact protocol end to end: `@actions/artifact` (what upload-artifact@v4 is made of) in a sandboxed
 * step sends one file up, a job that needs it brings it down: socat, the job gateway, the server, its disk.
 */
async function artifactProtocol(redis: TestRedis, mb: number, runs: number) {
  const client = mkdtempSync('/var/tmp/pushci-bench-artifact-client-');
  copyPackage('@actions/artifact', ROOT, client);
  const node = realpathSync(process.execPath);
  try {
    linkSync(node, join(client, 'node'));
  } catch {
    copyFileSync(node, join(client, 'node'));
  }
  writeFileSync(
    join(client, 'c.mjs'),
    `import { DefaultArtifactClient } from '@actions/artifact';
const c = new DefaultArtifactClient();
const [op, name] = process.argv.slice(2);
if (op === 'up') await c.uploadArtifact(name, [name], process.cwd(), { skipArchive: true });
else await c.downloadArtifact((await c.getArtifact(name)).artifact.id, { path: 'got' });
`,
  );
  const timed = (label: string, cmd: string) =>
    `s=$(date +%s%N); ${cmd} > /dev/null; echo "${label} $(( ($(date +%s%N) - s) / 1000 ))"`;
  // run: steps get the protocol's variables from an action of the checkout, as on GitHub.
  const art = makeRepo([{ 'README.md': 'hello\n', ...RUNTIME_ACTION }]);
  const pipes = mkdtempSync(join(tmpdir(), 'pushci-bench-pipes-'));
  writeFileSync(
    join(pipes, 'art.yml'),
    `name: art\nrepository: octo-org/*\nclone-url: ${art.dir}\non: push\njobs:\n  up:\n    steps:\n${RUNTIME_STEP}      - run: |\n          head -c ${mb * 1_000_000} /dev/urandom > blob.bin\n          ${timed('BENCH_UP', `"${client}/node" "${client}/c.mjs" up blob.bin`)}\n  down:\n    needs: up\n    steps:\n${RUNTIME_STEP}      - run: |\n          ${timed('BENCH_DOWN', `"${client}/node" "${client}/c.mjs" down blob.bin`)}\n`,
  );
  const server = await startReceiverProcess(redis, pipes, { PUSHCI_ARTIFACT_MAX_BYTES: '2G' });
  const workers = startWorkers(redis, pipes, 1, { PUSHCI_URL: server.base });
  const db = new Redis(redis.url);
  const up: number[] = [];
  const down: number[] = [];
  const figure = async (id: string, job: string, label: string) => {
    const lines = await db.lrange(keys(redis.prefix).log(id, job), 0, -1);
    const m = lines.map((l) => new RegExp(`${label} (\\d+)`).exec(l)).find(Boolean);
    return m ? Number(m[1]) / 1000 : null;
  };
  for (let i = 0; i < runs; i++) {
    const head = art.commits[0]!;
    const r = await sendGithub(server.base, githubPush({ before: head, after: head }), SECRET);
    const id = r.json.builds[0].id as string;
    up.push(await waitFor(() => figure(id, 'up', 'BENCH_UP'), 300_000, 'the upload'));
    down.push(await waitFor(() => figure(id, 'down', 'BENCH_DOWN'), 300_000, 'the download'));
  }
  db.disconnect();
  const rate = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
  row(
    `artifact protocol, ${mb} MB file (@actions/artifact, sandboxed step)`,
    `upload median ${median(up).toFixed(0)} ms (${rate(median(up))})`,
    `download median ${median(down).toFixed(0)} ms (${rate(median(down))})`,
    `${runs} builds; includes the client's Node start-up and hashing`,
  );
  await stop(server, ...workers);
  await drainJobs(redis);
  rmSync(client, { recursive: true, force: true });
  rmSync(art.dir, { recursive: true, force: true });
  return { mb, uploadMs: up, downloadMs: down, uploadMedianMs: median(up), downloadMedianMs: median(down) };
}

const started = Date.now();
const redis = await startRedis({ private: true });
try {
  console.log(
    `pushci benchmark on ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}${QUICK ? ', quick run' : ''}`,
  );
  results.machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    quick: QUICK,
    runs: RUNS,
    builds: BUILDS,
    messages: MESSAGES,
    // The machine is shared: every figure sits next to a baseline from the same run, and the load is kept.
    loadAverageAtStart: loadavg(),
  };
  console.log(
    `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  if (ONLY.has('intake')) results.intake = await intake(redis, 'empty Redis');
  await drainJobs(redis);
  if (ONLY.has('start')) {
    // BENCH_BASE=<another checkout>: its worker first, then this one's, in turn (RUNS rounds), the
    // sandbox's medians of each kept apart (an A/B under the same load).
    if (process.env.BENCH_BASE) {
      const ab: Record<string, unknown[]> = { base: [], pushci: [] };
      for (let i = 0; i < RUNS; i++) {
        ab.base!.push(
          await pushToStart(
            redis,
            '[base] idle workers',
            QUICK ? 50 : 200,
            'sandbox',
            process.env.BENCH_BASE,
          ),
        );
        ab.pushci!.push(await pushToStart(redis, 'idle workers', QUICK ? 50 : 200, 'sandbox'));
      }
      results.pushToStartAB = ab;
    }
    results.pushToStart = await pushToStart(redis, 'idle workers', QUICK ? 50 : 200, 'sandbox');
    results.pushToStartHost = await pushToStart(redis, 'idle workers', QUICK ? 50 : 200, 'host');
  }
  // The scaling curve: each size on a Redis of its own, filled to exactly that many queued builds, and
  // every intake run starts there (what a run stored is removed after it).
  const sizes = !ONLY.has('scaling') ? [] : QUICK ? [1000, 10_000] : [1000, 10_000, 100_000];
  const scaling: Record<string, unknown> = {};
  for (const [i, size] of sizes.entries()) {
    const scaleRedis = await startRedis({ private: true });
    try {
      const n = await fill(scaleRedis, size);
      const label = `${n} queued builds stored`;
      scaling[String(size)] = {
        builds: n,
        intake64: ((await intake(scaleRedis, label, [64], (since) => trimSince(scaleRedis, since))) as any)
          .c64.pushci,
        pushToStart: await pushToStart(scaleRedis, label, QUICK ? 30 : 100),
      };
      if (i === sizes.length - 1) results.memory = await memory(scaleRedis);
    } finally {
      await scaleRedis.stop();
    }
  }
  if (sizes.length > 0) results.scaling = scaling;
  if (ONLY.has('profile')) results.profile = await profile(redis, QUICK ? 30 : 100);
  if (ONLY.has('throughput')) {
    const tp: Record<string, unknown> = {};
    for (const w of WORKER_COUNTS) tp[`workers${w}`] = await throughputVsFloor(redis, w, BUILDS);
    results.throughput = tp;
  }
  // The same with `network: none`: no slirp4netns and no routes, closer to what the floor's sandbox has.
  if (ONLY.has('throughput-none'))
    results.throughputNetworkNone = await throughputVsFloor(redis, 1, BUILDS, 'none');
  if (ONLY.has('dag')) results.dag = await dag(redis);
  if (ONLY.has('deliveries')) results.deliveries = await deliveries(redis, MESSAGES);
  if (ONLY.has('logs')) {
    // BENCH_BASE=<another checkout>: its receiver and worker, then this one's, in turn (RUNS rounds).
    if (process.env.BENCH_BASE) {
      const ab = { base: [] as LogsResult[], pushci: [] as LogsResult[] };
      for (let i = 0; i < RUNS; i++) {
        ab.base.push(await logs(redis, '[base] ', process.env.BENCH_BASE, 1));
        ab.pushci.push(await logs(redis, '', undefined, 1));
      }
      for (const [name, xs] of Object.entries(ab))
        row(
          `${name === 'base' ? '[base] ' : ''}a step printing 200000 lines, median of ${xs.length} alternating runs`,
          `${median(xs.map((x) => x.linesPerSecond)).toFixed(0)} lines/s stored`,
          `live tail delay p50 ${median(xs.map((x) => x.tailP50Ms))} ms, p99 ${median(xs.map((x) => x.tailP99Ms))} ms`,
          `same-run A/B; CPU ms per 1,000 lines: receiver ${median(xs.map((x) => x.cpuMsPerKLines.receiver))}, worker ${median(xs.map((x) => x.cpuMsPerKLines.worker))}, Redis ${median(xs.map((x) => x.cpuMsPerKLines.redis))}`,
        );
      results.logsAB = ab;
    }
    results.logs = await logs(redis);
  }
  if (ONLY.has('npm')) {
    const n = await npmCacheBench(redis, RUNS, median);
    const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    row(
      `npm ci --offline, ${n.packages} packages, cold (no cache)`,
      `job ${sec(n.cold.jobMs)}`,
      `install step ${sec(n.cold.stepMs)}`,
      `median of ${n.runs}, local tarballs`,
    );
    row(
      `same build, warm (cache: node_modules restored)`,
      `job ${sec(n.warm.jobMs)}`,
      `install step ${sec(n.warm.stepMs)}`,
      `median of ${n.runs}`,
    );
    results.npmCache = n;
  }
  if (ONLY.has('artifacts')) results.artifactProtocol = await artifactProtocol(redis, QUICK ? 20 : 100, RUNS);
} finally {
  await redis.stop();
}
results.loadAverageAtEnd = loadavg();
console.log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
results.table = table;
results.seconds = Math.round((Date.now() - started) / 1000);
writeFileSync(join(ROOT, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote bench-results.json (${results.seconds} s)`);
process.exit(0);
