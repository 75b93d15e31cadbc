import { DelayedError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { CancelMessage, Lifecycle } from '../builds/lifecycle.ts';
import { failedJobReason, MAX_STALLED } from '../queue/failed-job-reason.ts';
import { queueJobId, type JobRef } from '../queue/queued-job.ts';
import { withScripts } from '../queue/scripts.ts';
import type { Logger } from '../log.ts';
import { logErrors } from '../log-errors.ts';
import { JOBS_QUEUE, type Keys } from '../queue/keys.ts';
import type { BuildStore } from '../queue/store.ts';
import type { Backend } from './backend.ts';
import { hostBackend } from './backends/host/host-backend.ts';
import { runJob } from './run-job.ts';
import { noTimings, startTimings } from './job-timings.ts';
import { parseAliases, requiredLabels, workerLabels } from './labels.ts';
import { listWorkers } from '../queue/worker-heartbeat.ts';
import { defaultBranchResolver } from './default-branch.ts';
import { startFileThread } from './files/start-file-thread.ts';
import { sweepWorkspaces } from './sweep-workspaces.ts';
import { prepareWorkspacesRoot } from './prepare-workspaces-root.ts';

export interface JobWorkerDeps {
  config: Readonly<Config>;
  /** Connection BullMQ duplicates for its blocking commands (maxRetriesPerRequest: null). */
  connection: Redis;
  /** Connection for logs and records. */
  redis: Redis;
  keys: Keys;
  store: BuildStore;
  lifecycle: Lifecycle;
  log: Logger;
  /** Where steps run (default: the host backend). */
  backend?: Backend;
  /** Base URL of the pushci server for caches and artifacts (default PUSHCI_URL). */
  serverUrl?: () => string;
}

export interface JobWorker {
  worker: Worker<JobRef>;
  /** Stops taking jobs, lets running ones finish for `graceMs`, then cancels them (reason: shutdown). */
  close(graceMs: number): Promise<void>;
  /** The jobs running in this process now (for its heartbeat). */
  running(): Array<{ build_id: string; job: string }>;
}

/**
 * The BullMQ worker that runs jobs. Cancellation reaches it through a Redis channel every worker process
 * listens to, and BullMQ's per-job AbortSignal. A job that stalls (its worker died) is handed to another
 * worker once; if it stalls again it ends as `error`, so nothing stays `running` forever.
 */
export async function createJobWorker(deps: JobWorkerDeps): Promise<JobWorker> {
  const { config, lifecycle, log } = deps;
  const active = new Map<string, Set<string>>(); // build id → job names running here
  const locks = new Map<string, Promise<unknown>>();
  const serialize = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (locks.get(key) ?? Promise.resolve()).catch(() => {}).then(fn);
    locks.set(key, run);
    return run;
  };
  const backend = deps.backend ?? hostBackend();
  const files = startFileThread();
  const runDeps = {
    ...deps,
    backend,
    knownCommits: new Set<string>(),
    serialize,
    defaultBranch: defaultBranchResolver(),
    files,
  };
  const redis = withScripts(deps.redis);
  // Workspaces being removed after their job's result was stored; a closing worker waits for them.
  const removals = new Set<Promise<void>>();

  const labels = new Set(workerLabels(config.runnerLabels ?? []));
  const aliases = parseAliases(config.runsOnAliases ?? []);
  await prepareWorkspacesRoot(config.dataDir, log);
  const orphans = await backend.sweep();
  if (orphans > 0) log.warn({ killed: orphans }, 'killed step processes left by a worker that died');
  // Workspaces a worker that died left behind, in a data dir other workers may share (not awaited: a
  // worker takes jobs at once; a starting attempt's workspace is never taken for a dead one's).
  let sweeping = false;
  const sweepFolders = async () => {
    // One sweep at a time: with Redis unreachable a sweep waits, and the next period must not pile on.
    if (config.keepWorkspaces || sweeping) return;
    sweeping = true;
    try {
      const removed = await sweepWorkspaces({
        dataDir: config.dataDir,
        record: (id) => deps.store.get(id),
        running: async () => (await listWorkers(deps.redis, deps.keys)).flatMap((w) => w.running),
        files,
      });
      if (removed.length > 0)
        log.warn({ workspaces: removed }, 'removed workspaces of attempts that no longer run');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'could not sweep the workspaces of stopped attempts');
    } finally {
      sweeping = false;
    }
  };
  void sweepFolders();

  /** Per running job: aborted by a second cancel, or the shutdown (it ends the steps a first cancel left running). */
  const forces = new Map<string, AbortController>();
  /** The running jobs a cancel reached already. */
  const stopping = new Set<string>();
  const processJob = async (job: Job<JobRef>, token?: string, signal?: AbortSignal) => {
    const { buildId, job: name } = job.data;
    const timings = config.jobTimings ? startTimings() : noTimings;
    const queuedMs = Date.now() - job.timestamp;
    const record = await deps.store.get(buildId);
    timings.lap('record read');
    const def = record?.def;
    const jobDef = def?.jobs.find((j) => j.name === name);
    if (record && jobDef?.runsOn?.length) {
      const need = requiredLabels(jobDef.runsOn, aliases);
      if (!need.every((l) => labels.has(l))) {
        // Not this worker's job: back to the queue for one that has the labels, saying why it waits.
        const live = await listWorkers(deps.redis, deps.keys).catch(() => []);
        const able = live.some((w) => need.every((l) => w.labels.includes(l)));
        const reason = `waiting for a worker with the labels ${need.join(', ')}${able ? '' : ' (no live worker has them)'}`;
        const state = record.jobs.get(name);
        if (state && state.status === 'queued' && state.reason !== reason) {
          const { status: _status, ...details } = state;
          await deps.store.setJobWaitingReason(buildId, name, { ...details, reason }).catch(() => null);
        }
        await job.moveToDelayed(Date.now() + 1000 + Math.floor(Math.random() * 1000), token);
        throw new DelayedError();
      }
    }
    // Slots: the pipeline's concurrency.max, and a matrix's max-parallel among its combinations.
    const slots: Array<[key: string, max: number]> = [];
    if (def?.maxJobs) slots.push([deps.keys.slots(def.name), def.maxJobs]);
    if (def && jobDef?.matrix?.maxParallel)
      slots.push([
        deps.keys.slots(`${def.name}:${buildId}:${jobDef.group ?? name}`),
        jobDef.matrix.maxParallel,
      ]);
    const taken: string[] = [];
    if (slots.length > 0) {
      const timeout = (jobDef?.timeoutMinutes ?? config.jobTimeoutMinutes) * 60_000;
      const now = Date.now();
      for (const [key, max] of slots) {
        const got = await redis.pushciTakeSlot(
          key,
          String(now),
          // Past the job's timeout and the cleanup after it (always() steps), with room to spare.
          String(now + timeout + config.cancelCleanupMs + 2 * config.killGraceMs + 5 * 60_000),
          job.id!,
          String(max),
        );
        if (!got) {
          for (const k of taken) await redis.zrem(k, job.id!);
          // Every slot is taken: look again in a second, without holding this worker.
          await job.moveToDelayed(now + 1000 + Math.floor(Math.random() * 500), token);
          throw new DelayedError();
        }
        taken.push(key);
      }
    }
    const names = active.get(buildId) ?? new Set<string>();
    names.add(name);
    active.set(buildId, names);
    const later: Array<() => Promise<void>> = [];
    const jobDeps = { ...runDeps, removeWorkspace: (remove: () => Promise<void>) => void later.push(remove) };
    try {
      const started = await lifecycle.jobStarted(buildId, name, record, backend.name);
      timings.lap('state write: running');
      if (!started) return;
      const jlog = log.child({ build_id: buildId, job: name, attempt: started.attempt });
      jlog.info('job started');
      const force = new AbortController();
      forces.set(job.id!, force);
      const outcome = await runJob(
        jobDeps,
        started.record,
        name,
        started.attempt,
        signal,
        timings,
        force.signal,
      ).finally(() => {
        forces.delete(job.id!);
        stopping.delete(job.id!);
      });
      if (outcome.status === 'skip-build') {
        jlog.info({ reason: outcome.reason }, 'build skipped by path filters');
        await lifecycle.skipBuild(buildId, outcome.reason);
        return;
      }
      if (outcome.status === 'canceled') {
        const fresh = await deps.store.get(buildId);
        outcome.reason =
          fresh?.cancelReason ??
          (shuttingDown ? 'shutdown: the worker stopped before the job finished' : outcome.reason);
      }
      jlog.info({ status: outcome.status, reason: outcome.reason }, 'job finished');
      const recorded = await lifecycle.jobFinished(buildId, name, outcome, started.record);
      timings.lap('state write: result, status webhooks queued');
      if (!recorded) {
        // A newer attempt has the job (this one was declared stalled), or it ended meanwhile: this
        // attempt's end decides nothing, not even fail-fast for the other combinations.
        jlog.warn('the job is no longer this attempt’s: its result was not recorded');
        return;
      }
      if (config.jobTimings) jlog.info({ queued_ms: queuedMs, ms: timings.phases() }, 'job timings');
      if (
        (outcome.status === 'failure' || outcome.status === 'error') &&
        jobDef?.matrix?.failFast &&
        !jobDef.continueOnError
      ) {
        // fail-fast: the other combinations of the matrix stop, wherever they run.
        const siblings = def!.jobs
          .filter((j) => j.group === jobDef.group && j.name !== name)
          .map((j) => j.name);
        const message: CancelMessage = {
          buildId,
          reason: `fail-fast: ${jobDef.title ?? name} failed`,
          jobs: siblings,
        };
        await deps.redis.publish(deps.keys.cancelChannel, JSON.stringify(message));
      }
    } finally {
      names.delete(name);
      if (names.size === 0) active.delete(buildId);
      // After the result: neither the build's status nor the slot waits for the disk.
      for (const remove of later) {
        const done: Promise<void> = remove().finally(() => removals.delete(done));
        removals.add(done);
      }
      for (const k of taken) await redis.zrem(k, job.id!);
    }
  };

  const worker = new Worker<JobRef>(JOBS_QUEUE, processJob, {
    connection: deps.connection,
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    maxStalledCount: MAX_STALLED,
    lockDuration: config.lockMs,
    stalledInterval: config.lockMs,
  });
  worker.on('failed', (job, err) => {
    if (!job || err instanceof DelayedError) return;
    const { buildId, job: name } = job.data;
    log.error({ build_id: buildId, job: name, err: err.message }, 'job ended abnormally');
    // BullMQ fails a job that stalled too often on the next worker that takes it (a deferred failure):
    // its stall count says so, whatever the message.
    const reason = failedJobReason({ stalledCounter: job.stalledCounter, failedReason: err.message });
    lifecycle.jobFinished(buildId, name, { status: 'error', exitCode: null, reason }).catch((e: Error) => {
      log.error({ build_id: buildId, job: name, err: e.message }, 'could not record the job error');
    });
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'job worker error'));

  // Cancellation broadcast: whichever process holds a job of the build aborts it.
  const sub = deps.redis.duplicate();
  logErrors(sub, log, 'cancel broadcast connection');
  await sub.subscribe(deps.keys.cancelChannel);
  sub.on('message', (_channel: string, text: string) => {
    let msg: CancelMessage;
    try {
      msg = JSON.parse(text) as CancelMessage;
    } catch {
      return;
    }
    for (const name of active.get(msg.buildId) ?? []) {
      if (msg.jobs && !msg.jobs.includes(name)) continue;
      const id = queueJobId(msg.buildId, name);
      // A forced cancel, or a cancel of a job a first one already stopped (a matrix's fail-fast, then
      // the build's): what it still runs after that first stop ends too. The job's own cancel as well,
      // for a job that started after the build's first cancel (if: always()).
      if (msg.force || stopping.has(id)) forces.get(id)?.abort(msg.reason);
      stopping.add(id);
      worker.cancelJob(id, msg.reason);
    }
  });

  const sweeper = setInterval(() => {
    // Folders only once what a dead worker left running is gone: nothing may still write a tree being removed.
    void backend
      .sweep()
      .catch(() => 0)
      .then(() => sweepFolders());
  }, 30_000);
  sweeper.unref();
  let shuttingDown = false;

  return {
    worker,
    running: () => [...active].flatMap(([build_id, names]) => [...names].map((job) => ({ build_id, job }))),
    async close(graceMs: number) {
      shuttingDown = true;
      clearInterval(sweeper);
      const closing = worker.close();
      const timer = setTimeout(() => {
        if (active.size > 0)
          log.warn({ jobs: active.size }, 'shutdown grace period over: cancelling running jobs');
        worker.cancelAllJobs('shutdown');
        // Steps that run after a cancel (always(), cancelled()) do not outlive the shutdown either.
        for (const force of forces.values()) force.abort('shutdown');
      }, graceMs);
      await closing;
      clearTimeout(timer);
      await backend.close?.();
      await Promise.all(removals);
      await sub.quit().catch(() => sub.disconnect());
      await files.close();
    },
  };
}
