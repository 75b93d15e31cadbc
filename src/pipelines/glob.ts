/**
 * GitHub Actions' filter-pattern dialect, compiled to anchored regular expressions:
 * `*` any characters but `/`; `**` any characters; `?` zero or one of the preceding character;
 * `+` one or more of the preceding character; `[a-z]` one character of a class (`[!a]` negates);
 * `{a,b}` alternatives; `\` escapes the next character. A leading `!` (handled by the list) excludes.
 *
 * picomatch reads `?` as "one character", which silently changes what GitHub users' patterns mean,
 * so the dialect is compiled here (https://docs.github.com/actions/reference/workflow-syntax-for-github-actions#filter-pattern-cheat-sheet).
 */

/** One pattern of a filter list; plain data so it survives JSON (build records snapshot pipelines). */
export interface Glob {
  pattern: string;
  negated: boolean;
}

export class GlobSyntaxError extends Error {
  /** Offset of the offending character in the pattern. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const cache = new Map<string, RegExp>();
const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

function escapeRegex(ch: string): string {
  return ch.replace(REGEX_SPECIAL, '\\$&');
}

/** Compiles one pattern (without its leading `!`); throws GlobSyntaxError with the offending offset. */
export function compileGlob(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  let out = '';
  let lastAtom = -1; // index in `out` where the last single-character atom starts
  let braceDepth = 0;
  const braceStarts: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new GlobSyntaxError('pattern ends with a lone "\\"', i);
      lastAtom = out.length;
      out += escapeRegex(next);
      i++;
    } else if (ch === '*') {
      if (pattern[i + 1] === '*') {
        // `**/` also matches nothing, so `**/x` matches `x` at the top.
        if (pattern[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i++;
        }
      } else {
        out += '[^/]*';
      }
      lastAtom = -1;
    } else if (ch === '?' || ch === '+') {
      if (lastAtom < 0) throw new GlobSyntaxError(`"${ch}" must follow a character it repeats`, i);
      out = `${out.slice(0, lastAtom)}(?:${out.slice(lastAtom)})${ch}`;
      lastAtom = -1;
    } else if (ch === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new GlobSyntaxError('"[" has no closing "]"', i);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('!') || body.startsWith('^');
      if (negate) body = body.slice(1);
      if (body.length === 0) throw new GlobSyntaxError('empty character class', i);
      lastAtom = out.length;
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
      i = end;
    } else if (ch === '{') {
      braceDepth++;
      braceStarts.push(i);
      out += '(?:';
      lastAtom = -1;
    } else if (ch === ',' && braceDepth > 0) {
      out += '|';
      lastAtom = -1;
    } else if (ch === '}' && braceDepth > 0) {
      braceDepth--;
      braceStarts.pop();
      out += ')';
      lastAtom = -1;
    } else {
      lastAtom = out.length;
      out += escapeRegex(ch);
    }
  }
  if (braceDepth > 0) throw new GlobSyntaxError('"{" has no closing "}"', braceStarts.at(-1)!);
  const re = new RegExp(`^${out}$`, 'u');
  cache.set(pattern, re);
  return re;
}

/** Splits a leading `!` off and checks the syntax. */
export function parseGlob(text: string): Glob {
  const negated = text.startsWith('!');
  const pattern = negated ? text.slice(1) : text;
  if (pattern.length === 0) throw new GlobSyntaxError('empty pattern', 0);
  compileGlob(pattern);
  return { pattern, negated };
}

/**
 * GitHub's ordered evaluation: the last pattern that matches decides, so `!` patterns exclude what
 * earlier patterns included and later patterns can include it again.
 */
export function matchesList(globs: readonly Glob[], value: string): boolean {
  let matched = false;
  for (const g of globs) if (compileGlob(g.pattern).test(value)) matched = !g.negated;
  return matched;
}

/** True when any pattern matches (for `*-ignore` lists, which have no negation). */
export function matchesAny(globs: readonly Glob[], value: string): boolean {
  return globs.some((g) => compileGlob(g.pattern).test(value));
}
