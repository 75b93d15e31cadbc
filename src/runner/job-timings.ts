/**
 * Where a job's milliseconds go (PUSHCI_JOB_TIMINGS=true): each `lap` adds the time since the previous
 * one to a phase, and the worker logs all phases as one `job timings` line when the job ends. When off,
 * `noTimings` measures nothing.
 */
export interface JobTimings {
  /** Adds the time since the last lap (or the start) to `phase`. */
  lap(phase: string): void;
  /** The phases in the order they were first seen, in ms (rounded to 0.1). */
  phases(): Record<string, number>;
}

export function startTimings(): JobTimings {
  const ms = new Map<string, number>();
  let last = performance.now();
  return {
    lap(phase) {
      const now = performance.now();
      ms.set(phase, (ms.get(phase) ?? 0) + now - last);
      last = now;
    },
    phases: () => Object.fromEntries([...ms].map(([k, v]) => [k, Math.round(v * 10) / 10])),
  };
}

export const noTimings: JobTimings = { lap() {}, phases: () => ({}) };
