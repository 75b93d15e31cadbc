import type { BuildRecord } from './build-record.ts';
import { eventOf } from './build-view.ts';
import type { Keys } from './keys.ts';
import { newestAfter, type TimeCursor } from './newest-after.ts';
import type { ScriptRedis } from './scripts.ts';

/** What the builds list filters on. */
export interface BuildFilter {
  pipeline?: string;
  repository?: string;
  branch?: string;
  status?: string;
  event?: string;
}

/**
 * A builds-list cursor read back: `<score>:<id>` (the previous page's last build), or `(<score>:` with
 * any id as older pages handed out after skipping a whole millisecond (the builds scored below it).
 */
function readBuildsCursor(cursor: string): TimeCursor {
  const [score, id] = cursor.split(':') as [string, string | undefined];
  return score.startsWith('(') ? { score: score.slice(1), member: '' } : { score, member: id ?? '' };
}

/**
 * Builds newest first, from the pipeline's index or the global one, filtered, after `cursor` (the
 * `<score>:<id>` of the previous page's last build). Builds of one millisecond share a score: the
 * page resumes right after the cursor's build among them (`newest-after-1.lua`), however many there
 * are. Reads at most `scanLimit` entries per page, so a rare filter cannot make one request read
 * everything; `next` then lets the caller go on.
 */
export async function listBuilds(
  redis: ScriptRedis,
  keys: Keys,
  get: (id: string) => Promise<BuildRecord | null>,
  filter: BuildFilter,
  cursor: string | null,
  limit: number,
  scanLimit = 5000,
): Promise<{ records: BuildRecord[]; next: string | null }> {
  const BATCH = 200;
  const index = filter.pipeline ? keys.pipelineIndex(filter.pipeline) : keys.index;
  let at: TimeCursor | null = cursor ? readBuildsCursor(cursor) : null;
  const out: BuildRecord[] = [];
  let scanned = 0;
  while (out.length < limit && scanned < scanLimit) {
    const asked = Math.min(BATCH, scanLimit - scanned);
    const entries = await newestAfter(redis, index, at, asked);
    let taken = 0;
    if (entries.length > 0) {
      const records = await Promise.all(entries.map((e) => get(e.member)));
      for (const r of records) {
        taken++;
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
      const last = entries[taken - 1]!;
      at = { score: last.score, member: last.member };
    }
    // The index ended within this batch, and every entry of it was read: there is no next page.
    if (entries.length < asked && taken === entries.length) return { records: out, next: null };
  }
  return { records: out, next: at ? `${at.score}:${at.member}` : null };
}
