/** Shown instead of a secret value. */
export const MASK = '********';

/**
 * Builds a function that hides secret values in log lines. A multi-line secret is masked whole and
 * line by line, because output arrives one line at a time. Very short fragments (under 3 characters)
 * are not masked on their own: they would blank out ordinary text without protecting anything.
 */
export function createMasker(secrets: Iterable<string>): (line: string) => string {
  return createMasking(secrets).mask;
}

/**
 * The masker and the line cut (see LineCut) of one set of secrets, from one compiled expression: the
 * job's are rebuilt together each time `::add-mask::` adds a value.
 */
export function createMasking(secrets: Iterable<string>): {
  mask: (line: string) => string;
  cut: LineCut;
} {
  const parts = secretParts(secrets);
  if (parts.length === 0) return { mask: (line) => line, cut: (_text, max) => max };
  const re = patternOf(parts);
  return { mask: maskWith(parts, re), cut: cutWith(parts, re) };
}

function maskWith(parts: string[], re: RegExp | null): (line: string) => string {
  // Secrets too large for one regular expression: each replaced in turn.
  if (!re) return (line) => parts.reduce((out, p) => out.split(p).join(MASK), line);
  return (line) => {
    const masked = line.replace(re, MASK);
    return masked.includes('\x1b') ? maskAcrossEscapes(masked, re) : masked;
  };
}

/** Terminal escape sequences: CSI (colours, `\e[K`), OSC (titles, links), `\e(B` and the like, two-byte ones. */
const ESCAPE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]+[0-~]|[@-Z\\-_])/g;

/**
 * Masks the secrets that terminal escapes split (`grep --color` colours the match inside a secret): the
 * text without its escapes is searched, and each secret found there is masked in the line, with the
 * escapes inside it.
 */
function maskAcrossEscapes(line: string, re: RegExp): string {
  // The plain text, and where each of its characters is in the line.
  let plain = '';
  const at: number[] = [];
  let from = 0;
  for (const m of line.matchAll(ESCAPE)) {
    for (let i = from; i < m.index; i++) at.push(i);
    plain += line.slice(from, m.index);
    from = m.index + m[0].length;
  }
  for (let i = from; i < line.length; i++) at.push(i);
  plain += line.slice(from);
  let out = '';
  let done = 0;
  for (const m of plain.matchAll(re)) {
    const start = at[m.index]!;
    const end = at[m.index + m[0].length - 1]! + 1;
    out += line.slice(done, start) + MASK;
    done = end;
  }
  return done === 0 ? line : out + line.slice(done);
}

/**
 * Where a line too long for one log line may be cut (each piece is masked alone) without cutting a
 * secret in two: at `max`, or just before a secret that spans `max`. Null while the text past `max` is
 * too short to tell (a secret may have begun there and not all of it arrived yet), unless `final` (the
 * stream ended).
 */
export type LineCut = (text: string, max: number, final?: boolean) => number | null;

export function createLineCut(secrets: Iterable<string>): LineCut {
  return createMasking(secrets).cut;
}

function cutWith(parts: string[], re: RegExp | null): LineCut {
  const longest = parts[0]!.length;
  return (text, max, final = false) => {
    if (!final && text.length < max + longest - 1) return null;
    if (!re) {
      for (const p of parts) {
        const at = text.indexOf(p, Math.max(0, max - p.length + 1));
        if (at >= 0 && at < max && at + p.length > max) return at > 0 ? at : at + p.length;
      }
      return max;
    }
    // From the start, as the masker reads it: secrets that overlap are then taken as it takes them.
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null && m.index < max; m = re.exec(text)) {
      const end = m.index + m[0].length;
      // A secret across the cut: cut before it (or after it, when it starts the text).
      if (end > max) return m.index > 0 ? m.index : end;
    }
    return max;
  };
}

/** The secret values, and each line of a multi-line one, that get masked (3 characters or more), longest first. */
function secretParts(secrets: Iterable<string>): string[] {
  const parts = new Set<string>();
  for (const s of secrets) {
    if (s.length >= 3) parts.add(s);
    for (const piece of s.split(/\r?\n/)) if (piece.trim().length >= 3) parts.add(piece.trim());
  }
  // Longest first, so a secret containing another is masked whole.
  return [...parts].sort((a, b) => b.length - a.length);
}

/** One expression for all the secrets, or null when they are too large for one (V8's limit). */
function patternOf(parts: string[]): RegExp | null {
  try {
    const re = new RegExp(parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    // V8 compiles it on first use: that is where "too large" comes.
    re.test('');
    re.lastIndex = 0;
    return re;
  } catch {
    return null;
  }
}
