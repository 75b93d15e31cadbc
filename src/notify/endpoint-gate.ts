/** A place taken for one attempt; `leave` when the attempt is over. */
export interface EndpointPlace {
  leave(now?: number): void;
  /** The attempt was not made after all (the message could not be prepared): free the place, learn nothing. */
  cancel(): void;
}

export interface EndpointGate {
  /**
   * A place for one attempt at `endpoint`, or, when the endpoint already has its share of attempts in
   * flight in this process, how long the message should wait before it looks again (ms): twice as
   * long for each time it `waited` already, up to the attempt timeout.
   */
  enter(endpoint: string, now?: number, waited?: number): EndpointPlace | { waitMs: number };
}

interface EndpointState {
  inFlight: Set<number>;
  /** Attempts finished, and a moving average of how long they took (ms). */
  done: number;
  typicalMs: number;
  /** Messages set aside since an attempt last ended: the backlog ahead of the next one set aside. */
  setAside: number;
}

const MIN_WAIT_MS = 250;
/** An endpoint whose attempts take longer than this (or one not heard from yet) counts as slow. */
const SLOW_MS = 1000;

/**
 * Keeps one slow receiver from taking every delivery slot of a worker. A new or slow endpoint (its
 * attempts take over a second, or one has been in flight that long) gets at most `limit` attempts at
 * once; one that answers quickly may use all `slots` but `limit`, so there is always room for the
 * others. Messages beyond its share wait about as long as the endpoint's attempts take (a receiver that
 * hangs until the timeout makes its own messages wait that long, not everyone's), twice as long each
 * time a message has to wait again (so a hanging receiver's backlog does not keep coming back to the
 * worker every quarter of a second), without using up an attempt. Once the endpoint is known to be
 * slow, the messages set aside while none of its attempts ends are spread out: each round of its
 * attempts takes `limit` of them, so the n-th waits about n / `limit` rounds. A receiver that hangs
 * would otherwise have every message of a burst come back a few times before its first attempt times
 * out, each look a fetch and a re-queue that the other endpoints' messages wait behind.
 */
export function createEndpointGate(
  limit: number,
  slots: number,
  maxWaitMs: number,
  random = Math.random,
): EndpointGate {
  const endpoints = new Map<string, EndpointState>();
  return {
    enter(endpoint, now = Date.now(), waited = 0) {
      let state = endpoints.get(endpoint);
      if (!state)
        endpoints.set(endpoint, (state = { inFlight: new Set(), done: 0, typicalMs: 0, setAside: 0 }));
      const oldest = state.inFlight.size > 0 ? Math.min(...state.inFlight) : now;
      const fast = state.done > 0 && state.typicalMs < SLOW_MS && now - oldest < SLOW_MS;
      const share = fast ? Math.max(limit, slots - limit) : limit;
      if (state.inFlight.size >= share) {
        const expected = Math.max(state.typicalMs, now - oldest);
        // Only an endpoint known to be slow: a new one may answer within milliseconds, and the messages
        // of a burst it was sent before its first answer must not wait seconds for it.
        const slow = now - oldest >= SLOW_MS || (state.done > 0 && state.typicalMs >= SLOW_MS);
        const backlog = slow ? 1 + Math.floor(state.setAside / share) : 1;
        const rounds = Math.max(2 ** Math.min(waited, 10), backlog);
        state.setAside++;
        const base = Math.max(MIN_WAIT_MS, expected) * rounds;
        const waitMs = Math.min(maxWaitMs, base) * (0.8 + 0.4 * random());
        return { waitMs: Math.round(waitMs) };
      }
      // Start times may repeat within a millisecond: keep them distinct.
      let started = now;
      while (state.inFlight.has(started)) started += 0.001;
      state.inFlight.add(started);
      const s = state;
      return {
        leave(end = Date.now()) {
          s.inFlight.delete(started);
          s.setAside = 0;
          const took = Math.max(0, end - started);
          s.typicalMs = s.done === 0 ? took : 0.7 * s.typicalMs + 0.3 * took;
          s.done++;
          if (s.inFlight.size === 0 && endpoints.size > 10_000) endpoints.delete(endpoint);
        },
        cancel() {
          s.inFlight.delete(started);
        },
      };
    },
  };
}
