import type { Context, Next } from 'koa';
import { RateLimitedError } from '../errors.ts';

/**
 * At most `perMinute` requests per source address and minute (a sliding window per process; behind
 * several receivers each counts its own). 0 turns it off. Over the limit: 429 with Retry-After.
 */
export function rateLimit(perMinute: number) {
  const hits = new Map<string, number[]>();
  let lastSweep = Date.now();
  return async (ctx: Context, next: Next) => {
    if (perMinute <= 0) return next();
    const now = Date.now();
    if (now - lastSweep > 60_000) {
      for (const [k, v] of hits) if (v.at(-1)! < now - 60_000) hits.delete(k);
      lastSweep = now;
    }
    const source = ctx.req.socket.remoteAddress ?? 'unknown';
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
    return next();
  };
}
