import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { JobRef, Lifecycle } from '../builds/lifecycle.ts';
import type { Logger } from '../log.ts';
import { JOBS_QUEUE, type Keys } from '../queue/keys.ts';
import { runJob } from './run-job.ts';

export interface JobWorkerDeps {
  config: Readonly<Config>;
  /** Blocking connection for BullMQ (maxRetriesPerRequest: null). */
  connection: Redis;
  /** Connection for logs and records. */
  redis: Redis;
  keys: Keys;
  lifecycle: Lifecycle;
  log: Logger;
}

/**
 * The BullMQ worker that runs jobs. A job that stalls (its worker died) is handed to another worker once;
 * if it stalls again it ends as `error`, so nothing stays `running` forever.
 */
export function createJobWorker(deps: JobWorkerDeps): Worker<JobRef> {
  const { config, lifecycle, log } = deps;

  const process = async (job: Job<JobRef>, _token?: string, signal?: AbortSignal) => {
    const { buildId, job: name } = job.data;
    const started = await lifecycle.jobStarted(buildId, name);
    if (!started) return;
    const jlog = log.child({ build_id: buildId, job: name, attempt: started.attempt });
    jlog.info('job started');
    const outcome = await runJob(deps, started.record, name, started.attempt, signal);
    if (outcome.status === 'skip-build') {
      jlog.info({ reason: outcome.reason }, 'build skipped by path filters');
      await lifecycle.skipBuild(buildId, outcome.reason);
      return;
    }
    jlog.info({ status: outcome.status, reason: outcome.reason }, 'job finished');
    await lifecycle.jobFinished(buildId, name, outcome);
  };

  const worker = new Worker<JobRef>(JOBS_QUEUE, process, {
    connection: deps.connection,
    prefix: config.queuePrefix,
    concurrency: config.concurrency,
    maxStalledCount: 1,
    autorun: true,
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const { buildId, job: name } = job.data;
    log.error({ build_id: buildId, job: name, err: err.message }, 'job ended abnormally');
    const reason = /stalled/i.test(err.message)
      ? 'the worker running this job stopped twice; giving up'
      : `pushci could not run the job: ${err.message}`;
    lifecycle.jobFinished(buildId, name, { status: 'error', exitCode: null, reason }).catch((e: Error) => {
      log.error({ build_id: buildId, job: name, err: e.message }, 'could not record the job error');
    });
  });
  worker.on('error', (err) => log.warn({ err: err.message }, 'job worker error'));
  return worker;
}
