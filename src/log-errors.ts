import type { Logger } from './log.ts';

/**
 * Logs an emitter's `error` events at warn level, each distinct message at most once per `everyMs`:
 * during a Redis outage every connection repeats the same error on each reconnect attempt, and an
 * operator needs to see it once, not thousands of times (nor never, as an empty listener did).
 */
export function logErrors(
  emitter: { on(event: 'error', listener: (err: Error) => void): unknown },
  log: Logger,
  what: string,
  everyMs = 60_000,
): void {
  const last = new Map<string, number>();
  emitter.on('error', (err: Error) => {
    const now = Date.now();
    const message = err?.message ?? String(err);
    if (now - (last.get(message) ?? -Infinity) < everyMs) return;
    if (last.size > 100) last.clear();
    last.set(message, now);
    log.warn({ err: message, what }, `${what}: ${message}`);
  });
}
