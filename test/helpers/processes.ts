import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * Digits for a test's `sleep` durations, so that `processesMatching` sees only this run's processes:
 * several checkouts run the same suites on one machine, and another run's live `sleep 7310` would
 * otherwise count as a survivor here.
 */
export function runDigits(): string {
  return String(randomInt(100_000, 1_000_000));
}

/** The machine's process command lines (trimmed) that match. */
export function processesMatching(pattern: RegExp): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => pattern.test(l));
}
