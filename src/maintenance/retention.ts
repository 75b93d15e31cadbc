import type { Redis } from 'ioredis';
import { isFinal } from '../model.ts';
import type { Keys } from '../queue/keys.ts';
import type { BuildStore } from '../queue/store.ts';

export interface RetentionResult {
  removed: number;
  kept: number;
}

const BATCH = 500;

/**
 * Removes finished builds older than `maxAgeMs`, and the oldest finished ones beyond `maxBuilds`, with
 * their logs and delivery records, so Redis stays bounded over months. Running builds are never removed.
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
    for (const [n, id] of batch.entries()) {
      const r = records[n];
      if (r && !isFinal(r.status)) continue;
      multi.del(keys.build(id));
      multi.zrem(keys.index, id);
      for (const j of r?.def.jobs ?? []) multi.del(keys.log(id, j.name));
      removed++;
    }
    // Delivery records of these builds.
    for (const id of batch) {
      const deliveries = await redis.zrange(`${keys.prefix}:deliveries:${id}`, '0', '-1');
      for (const d of deliveries)
        multi.del(`${keys.prefix}:delivery:${d}`, `${keys.prefix}:delivery:${d}:attempts`);
      multi.del(`${keys.prefix}:deliveries:${id}`);
    }
    await multi.exec();
  }
  return { removed, kept: total - removed };
}
