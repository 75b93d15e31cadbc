/** Shown instead of a secret value. */
export const MASK = '********';

/**
 * Builds a function that hides secret values in log lines. A multi-line secret is masked whole and
 * line by line, because output arrives one line at a time. Very short fragments (under 3 characters)
 * are not masked on their own: they would blank out ordinary text without protecting anything.
 */
export function createMasker(secrets: Iterable<string>): (line: string) => string {
  const parts = new Set<string>();
  for (const s of secrets) {
    if (s.length >= 3) parts.add(s);
    for (const piece of s.split(/\r?\n/)) if (piece.trim().length >= 3) parts.add(piece.trim());
  }
  if (parts.size === 0) return (line) => line;
  // Longest first, so a secret containing another is masked whole.
  const sorted = [...parts].sort((a, b) => b.length - a.length);
  const re = new RegExp(sorted.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (line) => line.replace(re, MASK);
}
