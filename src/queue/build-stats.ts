import type { ChainableCommander, Redis } from 'ioredis';
import type { BuildRecord } from './build-record.ts';
import type { Keys } from './keys.ts';

/** Upper bounds (seconds) of the job duration histogram. */
export const JOB_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** Counts a final outcome (cluster-wide, for /metrics) and remembers it for the pipeline's badges. */
export async function recordOutcome(redis: Redis, keys: Keys, r: BuildRecord): Promise<void> {
  await addOutcome(redis.multi(), keys, r).exec();
}

/** Adds `recordOutcome`'s writes to a transaction (to count an outcome with other writes at once). */
export function addOutcome(tx: ChainableCommander, keys: Keys, r: BuildRecord): ChainableCommander {
  const ref = r.meta.branch ?? (r.meta.tag ? `tag:${r.meta.tag}` : r.meta.ref);
  tx.hincrby(keys.stats('builds'), r.status, 1);
  // A badge shows the state of a branch: a pull request's build (maybe from a fork) must not paint it.
  if (r.meta.pull_request === null)
    tx.hset(keys.badges, `${r.meta.pipeline}\n${ref}`, r.status, `${r.meta.pipeline}\n*`, r.status);
  return tx;
}

/** The histogram's field that counts a job of `seconds`. */
export function jobDurationBucket(seconds: number): string {
  return `le:${JOB_BUCKETS.find((b) => seconds <= b) ?? Infinity}`;
}

/** Adds a finished job's duration to the cluster-wide histogram (seconds). */
export async function recordJobDuration(redis: Redis, keys: Keys, seconds: number): Promise<void> {
  await redis
    .multi()
    .hincrby(keys.stats('jobs'), jobDurationBucket(seconds), 1)
    .hincrby(keys.stats('jobs'), 'count', 1)
    .hincrbyfloat(keys.stats('jobs'), 'sum', seconds)
    .exec();
}
