import type { Redis } from 'ioredis';
import type { BuildRecord } from './build-record.ts';
import { eventOf } from './build-view.ts';
import type { Keys } from './keys.ts';

/** What the builds list filters on. */
export interface BuildFilter {
  pipeline?: string;
  repository?: string;
  branch?: string;
  status?: string;
  event?: string;
}

/**
 * Builds newest first, from the pipeline's index or the global one, filtered, after `cursor` (the
 * `<score>:<id>` of the previous page's last build). Scans at most `scanLimit` entries per page, so a
 * rare filter cannot make one request read everything; `next` then lets the caller go on.
 */
export async function listBuilds(
  redis: Redis,
  keys: Keys,
  get: (id: string) => Promise<BuildRecord | null>,
  filter: BuildFilter,
  cursor: string | null,
  limit: number,
  scanLimit = 5000,
): Promise<{ records: BuildRecord[]; next: string | null }> {
  const BATCH = 200;
  const index = filter.pipeline ? keys.pipelineIndex(filter.pipeline) : keys.index;
  let [max, after] = cursor ? (cursor.split(':') as [string, string | undefined]) : ['+inf', undefined];
  const out: BuildRecord[] = [];
  let scanned = 0;
  let exhausted = false;
  while (out.length < limit && scanned < scanLimit) {
    const flat = await redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', '0', String(BATCH));
    const entries: Array<[string, string]> = [];
    for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
    // Builds of the same millisecond share a score: resume after the cursor's id among them.
    const fresh = entries.filter(([id, score]) => !(after !== undefined && score === max && id >= after));
    if (fresh.length === 0) {
      exhausted = entries.length < BATCH;
      if (exhausted) break;
      [max, after] = [`(${entries.at(-1)![1]}`, undefined];
      continue;
    }
    const records = await Promise.all(fresh.map(([id]) => get(id)));
    let taken = 0;
    for (const [i, r] of records.entries()) {
      taken = i + 1;
      scanned++;
      if (
        r &&
        (!filter.repository || r.meta.repository.toLowerCase() === filter.repository.toLowerCase()) &&
        (!filter.branch || r.meta.branch === filter.branch) &&
        (!filter.status || r.status === filter.status) &&
        (!filter.event || eventOf(r) === filter.event)
      ) {
        out.push(r);
        if (out.length === limit) break;
      }
    }
    [after, max] = fresh[taken - 1]!;
    exhausted = entries.length < BATCH && taken === fresh.length;
    if (exhausted) break;
  }
  return { records: out, next: exhausted ? null : `${max}:${after}` };
}
