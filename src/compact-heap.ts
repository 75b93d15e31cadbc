import { getHeapSpaceStatistics, queryObjects, setFlagsFromString } from 'node:v8';

/**
 * How much V8 multiplies the young generation by each time it grows it (its default: 2). V8 reads it
 * each time it grows the young generation, so it can be set once V8 runs (the size limits cannot).
 */
const YOUNG_GROWTH_FACTOR = 8;

/** A class nothing ever makes: asking V8 for its instances only costs the collection before the count. */
class NeverMade {}

/**
 * Runs V8's memory-reducing garbage collection once and returns how long it took (ms) and the bytes of
 * heap spaces it gave back. Start-up (loading modules, compiling schemas, reading pipelines) grows the
 * young generation to 64 MiB and an idle process never shrinks it again; this shrinks it to what it
 * holds (idle receiver 157 to 161 MiB RSS before, 129 to 133 after).
 *
 * The collection is the one `v8.queryObjects` runs before it counts. It used to be `gc()` taken from a
 * new `vm` context made with `--expose-gc`: making that context alone (the collection skipped) cost the
 * receiver 15 to 40% more CPU per push for as long as it ran, which is what had kept this off by
 * default. V8 then regrows the young generation under load, by doubling and only once enough survived:
 * growing by 8 gets back to the size start-up had left within 2 s of load (by doubling, over 5 s).
 */
export function compactHeap(): { ms: number; freedBytes: number } {
  setFlagsFromString(`--semi-space-growth-factor=${YOUNG_GROWTH_FACTOR}`);
  const before = heapBytes();
  const t0 = performance.now();
  // queryObjects is marked experimental and says so on stderr once per process: not worth a line there.
  const warn = process.emitWarning;
  process.emitWarning = () => {};
  try {
    queryObjects(NeverMade, { format: 'count' });
  } finally {
    process.emitWarning = warn;
  }
  return { ms: performance.now() - t0, freedBytes: Math.max(0, before - heapBytes()) };
}

function heapBytes(): number {
  return getHeapSpaceStatistics().reduce((sum, s) => sum + s.space_size, 0);
}
