import type { Redis } from 'ioredis';
import { isFinal } from '../model.ts';
import type { Keys } from '../queue/keys.ts';
import { withScripts } from '../queue/scripts.ts';
import type { BuildStore } from '../queue/store.ts';

export interface RetentionResult {
  removed: number;
  kept: number;
  /** Pipeline snapshots dropped because no stored build uses them any more. */
  snapshotsDropped: number;
}

const BATCH = 500;

/** Removes the pipeline snapshots that no stored build refers to any more. Returns how many. */
export async function dropUnusedSnapshots(redis: Redis, keys: Keys): Promise<number> {
  const oldest = await redis.zrange(keys.index, '0', '0', 'WITHSCORES');
  const below = oldest.length === 0 ? '+inf' : `(${oldest[1]}`;
  let dropped = 0;
  for (;;) {
    const refs = await redis.zrangebyscore(keys.snapshots, '-inf', below, 'LIMIT', '0', String(BATCH));
    if (refs.length === 0) return dropped;
    const n = Number(
      await withScripts(redis).pushciDropSnapshots(
        refs.length + 2,
        keys.index,
        keys.snapshots,
        ...refs.map((ref) => keys.pipelineSnapshot(ref)),
        ...refs,
      ),
    );
    dropped += n;
    // Nothing dropped: builds older than these arrived meanwhile (a rerun); the next run looks again.
    if (n === 0 || refs.length < BATCH) return dropped;
  }
}

/**
 * Removes finished builds older than `maxAgeMs`, and the oldest finished ones beyond `maxBuilds`, with
 * their logs and delivery records and the pipeline snapshots only they used, so Redis stays bounded over
 * months. Running builds are never removed.
 * (De-duplication keys expire on their own.)
 */
export async function applyRetention(
  redis: Redis,
  store: BuildStore,
  keys: Keys,
  { maxAgeMs, maxBuilds, now = Date.now() }: { maxAgeMs: number; maxBuilds: number; now?: number },
): Promise<RetentionResult> {
  const byAge = await redis.zrangebyscore(keys.index, '-inf', String(now - maxAgeMs), 'LIMIT', '0', '100000');
  const total = await redis.zcard(keys.index);
  const overCount =
    total > maxBuilds ? await redis.zrange(keys.index, '0', String(total - maxBuilds - 1)) : [];
  const candidates = [...new Set([...byAge, ...overCount])];
  let removed = 0;
  for (let i = 0; i < candidates.length; i += BATCH) {
    const batch = candidates.slice(i, i + BATCH);
    const records = await Promise.all(batch.map((id) => store.get(id)));
    const multi = redis.multi();
    const gone: string[] = [];
    for (const [n, id] of batch.entries()) {
      const r = records[n];
      if (r && !isFinal(r.status)) continue;
      multi.del(keys.build(id));
      multi.zrem(keys.index, id);
      if (r) multi.zrem(keys.pipelineIndex(r.meta.pipeline), id);
      for (const j of r?.def.jobs ?? []) multi.del(keys.log(id, j.name));
      gone.push(id);
    }
    // Delivery records of the removed builds only: a build kept (still running) keeps its own.
    for (const id of gone) {
      const deliveries = await redis.zrange(keys.buildDeliveries(id), '0', '-1');
      for (const d of deliveries) multi.del(keys.delivery(d), keys.deliveryAttempts(d));
      multi.del(keys.buildDeliveries(id));
    }
    removed += gone.length;
    await multi.exec();
  }
  return { removed, kept: total - removed, snapshotsDropped: await dropUnusedSnapshots(redis, keys) };
}
