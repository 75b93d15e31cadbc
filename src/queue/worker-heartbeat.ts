import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

/** A worker process as the Workers page shows it. */
export interface WorkerBeat {
  id: string;
  host: string;
  pid: number;
  started_at: string;
  last_heartbeat: string;
  /** Jobs it runs at once (PUSHCI_CONCURRENCY). */
  concurrency: number;
  /** Labels `runs-on` can ask for (empty: it takes any job). */
  labels: string[];
  running: Array<{ build_id: string; job: string }>;
}

/** How often a worker says it is alive (and whenever its jobs change); its record expires after three missed beats. */
export const HEARTBEAT_MS = 5_000;
const TTL_MS = 3 * HEARTBEAT_MS;

/**
 * Keeps a small record of this worker process in Redis (expiring, so a dead worker disappears on its
 * own) with what it runs now. Returns a function that stops it and removes the record.
 */
export function startHeartbeat(
  redis: Redis,
  keys: Keys,
  info: { concurrency: number; labels: readonly string[]; running: () => WorkerBeat['running'] },
): () => Promise<void> {
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const started_at = new Date().toISOString();
  let last = 0;
  let shown = '';
  let stopped = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const beat = async () => {
    const now = Date.now();
    if (stopped) return;
    const running = info.running().slice(0, 100);
    // Every period, and at once when what it runs changes (checked every second, in memory).
    const text = JSON.stringify(running);
    if (now - last < HEARTBEAT_MS && text === shown) return;
    [last, shown] = [now, text];
    const record: WorkerBeat = {
      id,
      host: hostname(),
      pid: process.pid,
      started_at,
      last_heartbeat: new Date(now).toISOString(),
      concurrency: info.concurrency,
      labels: [...info.labels],
      running,
    };
    inFlight = redis
      .multi()
      .set(keys.worker(id), JSON.stringify(record), 'PX', TTL_MS)
      .zadd(keys.workers, now, id)
      .zremrangebyscore(keys.workers, '-inf', now - TTL_MS)
      .exec()
      .catch(() => null);
    await inFlight;
  };
  void beat();
  const timer = setInterval(() => void beat(), 1000);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    // A beat already sent must not land after the record is removed.
    await inFlight;
    await redis
      .multi()
      .del(keys.worker(id))
      .zrem(keys.workers, id)
      .exec()
      .catch(() => null);
  };
}

/** The workers that beat within the last three periods, newest beat first. */
export async function listWorkers(redis: Redis, keys: Keys): Promise<WorkerBeat[]> {
  const ids = await redis.zrevrangebyscore(keys.workers, '+inf', Date.now() - TTL_MS);
  if (ids.length === 0) return [];
  const texts = await redis.mget(ids.map((id) => keys.worker(id)));
  return texts.filter((t): t is string => t !== null).map((t) => JSON.parse(t) as WorkerBeat);
}
