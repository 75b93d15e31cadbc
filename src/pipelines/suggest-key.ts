import { knownKeys } from './known-keys.ts';
import { pipelineSchema } from './schema.ts';

/** Levenshtein distance (insertions, deletions, substitutions). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length]!;
}

/** What an unknown key message adds: the known key it likely meant, or the keys known there. */
export function suggestKey(key: string, path: readonly PropertyKey[]): string {
  const known = knownKeys(pipelineSchema, path);
  const lower = key.toLowerCase();
  const prefixed = known.find((k) => k.startsWith(lower) || lower.startsWith(k));
  if (prefixed) return ` (did you mean "${prefixed}"?)`;
  const best = known.map((k) => [k, distance(lower, k)] as const).sort((x, y) => x[1] - y[1])[0];
  return best && best[1] <= 3
    ? ` (did you mean "${best[0]}"?)`
    : known.length
      ? ` (expected one of: ${known.join(', ')})`
      : '';
}
