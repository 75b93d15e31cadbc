/** A place taken for one attempt; `leave` when the attempt is over. */
export interface EndpointPlace {
  leave(): void;
}

export interface EndpointGate {
  /**
   * A place for one attempt at `endpoint`, or, when `limit` attempts at it are already in flight in this
   * process, how long the message should wait before it looks again (ms).
   */
  enter(endpoint: string, now?: number): EndpointPlace | { waitMs: number };
}

interface EndpointState {
  inFlight: Set<number>;
  /** Moving average of how long its attempts took (ms). */
  typicalMs: number;
}

const MIN_WAIT_MS = 250;

/**
 * Keeps one slow receiver from taking every delivery slot of a worker: at most `limit` attempts per
 * endpoint are in flight at once, and the messages beyond that wait about as long as the endpoint's
 * attempts take (a receiver that hangs until the timeout makes its own messages wait that long, not
 * everyone's), without using up an attempt.
 */
export function createEndpointGate(limit: number, maxWaitMs: number, random = Math.random): EndpointGate {
  const endpoints = new Map<string, EndpointState>();
  return {
    enter(endpoint, now = Date.now()) {
      let state = endpoints.get(endpoint);
      if (!state) endpoints.set(endpoint, (state = { inFlight: new Set(), typicalMs: 0 }));
      if (state.inFlight.size >= limit) {
        const oldest = Math.min(...state.inFlight);
        const expected = Math.max(state.typicalMs, now - oldest);
        const waitMs = Math.min(maxWaitMs, Math.max(MIN_WAIT_MS, expected)) * (0.8 + 0.4 * random());
        return { waitMs: Math.round(waitMs) };
      }
      // Start times may repeat within a millisecond: keep them distinct.
      let started = now;
      while (state.inFlight.has(started)) started += 0.001;
      state.inFlight.add(started);
      const s = state;
      return {
        leave() {
          s.inFlight.delete(started);
          const took = Date.now() - started;
          s.typicalMs = s.typicalMs === 0 ? took : 0.7 * s.typicalMs + 0.3 * took;
          if (s.inFlight.size === 0 && endpoints.size > 10_000) endpoints.delete(endpoint);
        },
      };
    },
  };
}
