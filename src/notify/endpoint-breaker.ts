/** What the breaker says about one message for an endpoint. */
export type BreakerVerdict =
  /** Send it (the circuit is closed, or this message is the probe of a circuit that was open). */
  | { send: true; probe: boolean }
  /** The circuit is open: keep the message and look again at `untilMs`, without using an attempt. */
  | { send: false; untilMs: number };

/** A change worth telling (the API shows whether an endpoint's circuit is open, and until when). */
export type BreakerChange = { endpoint: string; openUntil: number | null };

export interface EndpointBreaker {
  check(endpoint: string, now?: number): BreakerVerdict;
  /** The probe `check` let through was not sent after all (it must wait for a slot): another may go. */
  abandon(endpoint: string): void;
  /** An attempt got a 2xx: the circuit closes. */
  success(endpoint: string): BreakerChange | null;
  /** An attempt failed (no answer, or not 2xx): a run of `threshold` of them opens the circuit. */
  failure(endpoint: string, now?: number): BreakerChange | null;
}

interface Circuit {
  /** Failed attempts in a row. */
  failures: number;
  /** While open: when the next probe may go (ms); 0 when closed. */
  openUntil: number;
  /** How long the circuit opens next time (ms): doubles each time a probe fails. */
  cooldownMs: number;
  /** When the probe in flight went (ms), 0 without one: the other messages keep waiting for it. */
  probeAt: number;
}

/**
 * A circuit breaker per endpoint, in one worker process. After `threshold` failed attempts in a row the
 * circuit opens for `minMs` (doubling, up to `maxMs`, each time the endpoint still fails): its messages
 * are kept in the queue and set aside until then without an attempt, a request or a write to the
 * delivery log, so a receiver that is down costs one queue move per message per period instead of
 * every attempt of the retry schedule, and the others' messages keep their workers. When the period
 * ends one message goes as a probe (a real attempt); a 2xx closes the circuit and the kept messages
 * follow; a failure opens it again for longer. Messages set aside come back spread over the period
 * after the probe, not all at once.
 */
export function createEndpointBreaker(
  {
    threshold,
    minMs,
    maxMs,
    probeMs,
  }: {
    threshold: number;
    minMs: number;
    maxMs: number;
    /** A probe not heard of for this long (its attempt timed out, or its message went elsewhere) is given up. */
    probeMs: number;
  },
  random = Math.random,
): EndpointBreaker {
  const circuits = new Map<string, Circuit>();
  const open = (endpoint: string, c: Circuit, now: number): BreakerChange => {
    c.openUntil = now + c.cooldownMs;
    c.cooldownMs = Math.min(maxMs, c.cooldownMs * 2);
    c.probeAt = 0;
    return { endpoint, openUntil: c.openUntil };
  };
  return {
    check(endpoint, now = Date.now()) {
      const c = circuits.get(endpoint);
      if (!c || c.openUntil === 0) return { send: true, probe: false };
      // The kept messages come back over the period after the probe's time, so they neither arrive
      // together nor all just before it.
      const later = () => c.openUntil + Math.round(random() * (c.cooldownMs / 2));
      if (now < c.openUntil || (c.probeAt > 0 && now - c.probeAt < probeMs))
        return { send: false, untilMs: Math.max(later(), now + 100) };
      c.probeAt = now;
      return { send: true, probe: true };
    },
    abandon(endpoint) {
      const c = circuits.get(endpoint);
      if (c) c.probeAt = 0;
    },
    success(endpoint) {
      const c = circuits.get(endpoint);
      if (!c) return null;
      circuits.delete(endpoint);
      return c.openUntil === 0 ? null : { endpoint, openUntil: null };
    },
    failure(endpoint, now = Date.now()) {
      let c = circuits.get(endpoint);
      if (!c) {
        if (circuits.size >= 10_000) circuits.clear();
        circuits.set(endpoint, (c = { failures: 0, openUntil: 0, cooldownMs: minMs, probeAt: 0 }));
      }
      c.failures++;
      // A failed probe, or the run reaching the threshold (attempts already in flight when the circuit
      // opened fail too, and must not push it further out).
      if (c.probeAt > 0 || (c.openUntil === 0 && c.failures >= threshold)) return open(endpoint, c, now);
      return null;
    },
  };
}
