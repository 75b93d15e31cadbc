import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { DeliveryLog } from './delivery-log.ts';
import { createEndpointBreaker, type BreakerChange } from './endpoint-breaker.ts';

/** Failed attempts in a row that open an endpoint's circuit, and how long it opens (doubling each time). */
export const CIRCUIT_AFTER = 5;
const CIRCUIT_MIN_MS = 5000;
const CIRCUIT_MAX_MS = 5 * 60_000;

export interface EndpointCircuits {
  /**
   * Whether a message queued at `queuedAt` may go to `endpoint` now (`probe`: it is the one message
   * that tries an open circuit), or until when it is kept back.
   */
  check(endpoint: string, queuedAt: number, now?: number): { probe: boolean } | { untilMs: number };
  /** The probe `check` let through waits for a slot instead: another message may probe. */
  abandon(endpoint: string): void;
  /** The outcome of an attempt: a 2xx (`ok`) or not. */
  outcome(endpoint: string, ok: boolean): void;
}

/**
 * A worker process's circuit breakers (see createEndpointBreaker), which say in the logs and in the
 * endpoint's stats (`circuit_open_until`, through the delivery log) when a circuit opens or closes. A
 * message kept back still makes its attempts once the whole retry schedule has passed since it was
 * queued, so a receiver that never comes back cannot keep it for ever.
 */
export function createEndpointCircuits({
  config,
  log,
  deliveryLog,
}: {
  config: Pick<Config, 'notifyTimeoutMs' | 'notifyRetrySchedule'>;
  log: Logger;
  deliveryLog: Pick<DeliveryLog, 'setCircuit'>;
}): EndpointCircuits {
  const breaker = createEndpointBreaker({
    threshold: CIRCUIT_AFTER,
    minMs: CIRCUIT_MIN_MS,
    maxMs: CIRCUIT_MAX_MS,
    probeMs: config.notifyTimeoutMs + 5000,
  });
  const keepAtMostMs = config.notifyRetrySchedule.reduce((a, b) => a + b, 0);
  const changed = (change: BreakerChange | null) => {
    if (!change) return;
    if (change.openUntil !== null)
      log.warn(
        { endpoint_id: change.endpoint, until: new Date(change.openUntil).toISOString() },
        `endpoint circuit open: ${CIRCUIT_AFTER} or more attempts in a row failed; its messages are kept and sent once a probe succeeds`,
      );
    else log.info({ endpoint_id: change.endpoint }, 'endpoint circuit closed: a probe succeeded');
    deliveryLog
      .setCircuit(change.endpoint, change.openUntil)
      .catch((err: Error) => log.warn({ err: err.message }, 'could not record an endpoint circuit'));
  };
  return {
    check(endpoint, queuedAt, now = Date.now()) {
      const verdict = breaker.check(endpoint, now);
      if (verdict.send) return { probe: verdict.probe };
      return now < queuedAt + keepAtMostMs ? { untilMs: verdict.untilMs } : { probe: false };
    },
    abandon: (endpoint) => breaker.abandon(endpoint),
    outcome: (endpoint, ok) => changed(ok ? breaker.success(endpoint) : breaker.failure(endpoint)),
  };
}
