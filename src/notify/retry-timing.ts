/** A receiver asked for a pause (429/503 with Retry-After). */
export class RetryAfterError extends Error {
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

const RETRY_AFTER_MIN_MS = 1000;
const RETRY_AFTER_MAX_MS = 6 * 3600_000;

/** Retry-After in seconds or as an HTTP date, kept between 1 s and 6 h. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  if (!Number.isFinite(ms)) return null;
  return Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, ms));
}

/** Delay before attempt `attemptsMade + 1`, from the schedule, with ±20% jitter. */
export function scheduledDelay(
  schedule: readonly number[],
  attemptsMade: number,
  random = Math.random,
): number {
  const base = schedule[Math.min(attemptsMade, schedule.length - 1)] ?? 0;
  return Math.round(base * (0.8 + 0.4 * random()));
}
