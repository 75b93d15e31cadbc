import { RateLimitedError } from '../errors.ts';

/**
 * At most `perMinute` requests per source address and minute (a sliding window per process; behind
 * several receivers each counts its own). 0 turns it off. `check` throws `RateLimitedError` (429 with
 * Retry-After) for a request over the limit.
 */
export function createRateLimiter(perMinute: number): { check(source: string): void } {
  const hits = new Map<string, number[]>();
  let lastSweep = Date.now();
  return {
    check(source) {
      if (perMinute <= 0) return;
      const now = Date.now();
      if (now - lastSweep > 60_000) {
        for (const [k, v] of hits) if (v.at(-1)! < now - 60_000) hits.delete(k);
        lastSweep = now;
      }
      const recent = (hits.get(source) ?? []).filter((t) => t > now - 60_000);
      if (recent.length >= perMinute) {
        const retry = Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
        hits.set(source, recent);
        throw new RateLimitedError(
          `more than ${perMinute} webhooks a minute from ${source} (PUSHCI_RATE_LIMIT)`,
          { retry_after_s: retry },
        );
      }
      recent.push(now);
      hits.set(source, recent);
    },
  };
}
