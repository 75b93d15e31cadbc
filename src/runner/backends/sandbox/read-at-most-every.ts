/**
 * `read` made cheap to call often: its result is kept for `maxAgeMs` and read again after that. For
 * what a job asks several times (a file of the host's, read synchronously on the event loop) and what
 * changes only when someone changes it from outside.
 */
export function readAtMostEvery<T>(maxAgeMs: number, read: () => T): () => T {
  let last: { at: number; value: T } | null = null;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= maxAgeMs) last = { at: now, value: read() };
    return last.value;
  };
}
