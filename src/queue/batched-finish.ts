import { createRedisBackend, type BackendFactory, type RedisQueueBackend } from 'bullmq';
import type { Redis } from 'ioredis';
import { withScripts } from './scripts.ts';

/** Jobs finished in one script call at most (a turn's share beyond it goes in the next call). */
const BATCH_MAX = 200;
const KEYS_PER_JOB = 14;
const ARGS_PER_JOB = 9;

interface Pending {
  args: unknown[];
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

/**
 * A BullMQ backend whose workers finish the jobs that end within one turn of the event loop in one
 * Redis call (queue/lua/finish-jobs.lua: BullMQ's own moveToFinished script, once per job), instead of
 * one script call and one round trip per job. Everything else (fetching, locks, stalled jobs, retries,
 * delays) is BullMQ's as it is; what each job's finish writes and answers (its next job, or an error
 * code BullMQ turns into its error) is what BullMQ's call would have. `connection` is the Redis
 * connection the worker is given.
 */
export function batchedFinish(connection: Redis): BackendFactory<RedisQueueBackend> {
  const redis = withScripts(connection);
  return (name, opts, options) => {
    const backend = createRedisBackend(name, opts, options);
    const exec = backend.execCommand.bind(backend);
    let pending: Pending[] = [];
    const flush = () => {
      const batch = pending.splice(0, BATCH_MAX);
      if (pending.length > 0) setImmediate(flush);
      const keys: string[] = [];
      const argv: Array<string | Buffer> = [];
      for (const p of batch) {
        for (let i = 0; i < KEYS_PER_JOB; i++) keys.push(String(p.args[i]));
        for (let i = KEYS_PER_JOB; i < KEYS_PER_JOB + ARGS_PER_JOB; i++) argv.push(arg(p.args[i]));
      }
      redis.pushciFinishJobs(keys.length, ...keys, ...argv).then(
        (results) =>
          batch.forEach((p, i) => {
            const r = results[i];
            // A string is the error the job's finish raised (a result is a number or the next job).
            if (typeof r === 'string') p.reject(new Error(r));
            else p.resolve(r);
          }),
        (err: unknown) => batch.forEach((p) => p.reject(err)),
      );
    };
    backend.execCommand = (client, command, args) => {
      if (command !== 'moveToFinished' || args.length !== KEYS_PER_JOB + ARGS_PER_JOB)
        return exec(client, command, args);
      return new Promise((resolve, reject) => {
        if (pending.length === 0) setImmediate(flush);
        pending.push({ args, resolve, reject });
      });
    };
    return backend;
  };
}

/** One argument as ioredis would send it (BullMQ leaves the fields to update out as `undefined`). */
function arg(v: unknown): string | Buffer {
  if (v === undefined || v === null) return '';
  return Buffer.isBuffer(v) ? v : String(v);
}
