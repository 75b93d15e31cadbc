import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

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

/** Pids of the processes whose command line (`/proc/<pid>/cmdline`, NUL between its words) holds `text`. */
export function withCommandLine(text: string): string[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    });
}
