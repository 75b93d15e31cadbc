import { RateLimitedError } from '../errors.ts';

/** Counts events per source in a sliding minute. */
export interface RateLimiter {
  /** Throws `RateLimitedError` (429 with Retry-After) when `source` has used up its minute. */
  check(source: string): void;
  /** Records one event of `source`. */
  count(source: string): void;
}

/**
 * At most `perMinute` counted events per source address and minute (a sliding window per process;
 * behind several receivers each counts its own). 0 turns it off. `what` names the events and the
 * setting in the 429's message.
 */
export function createRateLimiter(perMinute: number, what: string): RateLimiter {
  const hits = new Map<string, number[]>();
  let lastSweep = Date.now();
  const recent = (source: string, now: number) => {
    if (now - lastSweep > 60_000) {
      for (const [k, v] of hits) if (v.at(-1)! < now - 60_000) hits.delete(k);
      lastSweep = now;
    }
    const list = (hits.get(source) ?? []).filter((t) => t > now - 60_000);
    hits.set(source, list);
    return list;
  };
  return {
    check(source) {
      if (perMinute <= 0) return;
      const now = Date.now();
      const list = recent(source, now);
      if (list.length >= perMinute) {
        const retry = Math.max(1, Math.ceil((list[0]! + 60_000 - now) / 1000));
        throw new RateLimitedError(`more than ${perMinute} ${what} a minute from ${source}`, {
          retry_after_s: retry,
        });
      }
    },
    count(source) {
      if (perMinute <= 0) return;
      recent(source, Date.now()).push(Date.now());
    },
  };
}
