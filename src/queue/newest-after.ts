import type { ScriptRedis } from './scripts.ts';

/**
 * Where a page of a time index (a sorted set scored by milliseconds) ended: the last entry's score and
 * member. Entries of one millisecond share a score, so a score alone cannot say where among them a page
 * stopped; its text `<score>-<member>` is the `next` the API hands out.
 */
export interface TimeCursor {
  score: string;
  /** '' for a cursor of a score only (the entries scored below it), as pages used to hand out. */
  member: string;
}

/** A cursor's text, as the API hands it out. */
export function cursorText(c: TimeCursor): string {
  return c.member === '' ? c.score : `${c.score}-${c.member}`;
}

/**
 * A `before`/`next` text read back: `<score>-<member>`, or an older plain `<score>`. Undefined when the
 * text is none of these (the caller answers 400).
 */
export function readCursor(text: string): TimeCursor | undefined {
  const m = /^(\d{1,15})(?:-([\x21-\x7e]{1,300}))?$/.exec(text);
  return m ? { score: m[1]!, member: m[2] ?? '' } : undefined;
}

/** Up to `count` entries of `index`, newest first, after `after` (from the newest when null). */
export async function newestAfter(
  redis: ScriptRedis,
  index: string,
  after: TimeCursor | null,
  count: number,
): Promise<Array<{ member: string; score: string }>> {
  const flat = await redis.pushciNewestAfter(
    index,
    after ? after.score : '+inf',
    after ? after.member : '',
    String(count),
  );
  const out: Array<{ member: string; score: string }> = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i]!, score: flat[i + 1]! });
  return out;
}
