import type { Redis } from 'ioredis';
import type { Keys } from '../queue/keys.ts';

/** What a schedule's latest tick did, as the pipeline's page shows it. */
export interface LastTick {
  /** When it fired (ISO). */
  at: string;
  /** The build it started. */
  built?: string;
  /** Why it started none (the commit was built already, the repository names no default branch, …). */
  skipped?: string;
  /** It could not fire (git could not reach the clone URL, …); BullMQ tries the tick again. */
  error?: string;
  branch?: string;
  sha?: string;
}

/**
 * Keeps what a schedule's tick did, so the pipeline's page says why a schedule built nothing: the
 * server's log is not where someone looking at a pipeline looks.
 */
export async function recordTick(redis: Redis, keys: Keys, scheduler: string, tick: LastTick): Promise<void> {
  await redis.set(keys.scheduleTick(scheduler), JSON.stringify(tick));
}

/** The latest tick of each of `schedulers` (null where none fired yet), in their order. */
export async function lastTicks(
  redis: Redis,
  keys: Keys,
  schedulers: string[],
): Promise<Array<LastTick | null>> {
  if (schedulers.length === 0) return [];
  const texts = await redis.mget(...schedulers.map((s) => keys.scheduleTick(s)));
  return texts.map((t) => (t ? (JSON.parse(t) as LastTick) : null));
}

/** Forgets the ticks of schedules that are gone. */
export async function forgetTicks(redis: Redis, keys: Keys, schedulers: string[]): Promise<void> {
  if (schedulers.length > 0) await redis.del(...schedulers.map((s) => keys.scheduleTick(s)));
}
