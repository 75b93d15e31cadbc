import { IntakeBusyError } from '../errors.ts';

/** Bytes one request holds of the budget; `release` gives them all back (idempotent). */
export interface IntakeLease {
  /** Takes `n` more bytes, or throws `IntakeBusyError` (503 with Retry-After) when the budget is spent. */
  take(n: number): void;
  release(): void;
}

export interface IntakeBudget {
  lease(): IntakeLease;
  /** Bytes held right now (for tests and metrics). */
  inUse(): number;
}

/**
 * The total of webhook body bytes the receiver holds before their signatures are checked
 * (`PUSHCI_MAX_INTAKE_BYTES`). Anyone can send unsigned bodies, each up to PUSHCI_MAX_BODY_BYTES; without
 * a total, sixty of them at once hold a gigabyte and a half. Over the budget a request is answered 503
 * with Retry-After (forges redeliver), so memory stays bounded whatever arrives.
 */
export function createIntakeBudget(maxBytes: number): IntakeBudget {
  let used = 0;
  return {
    inUse: () => used,
    lease() {
      let held = 0;
      let released = false;
      return {
        take(n) {
          if (released) return;
          if (used + n > maxBytes)
            throw new IntakeBusyError(
              `the receiver holds ${used} bytes of unverified webhook bodies, its limit (PUSHCI_MAX_INTAKE_BYTES is ${maxBytes}); retry shortly`,
              { retry_after_s: 5 },
            );
          used += n;
          held += n;
        },
        release() {
          if (released) return;
          released = true;
          used -= held;
          held = 0;
        },
      };
    },
  };
}
