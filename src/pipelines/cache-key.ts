import { resolveTemplate } from './expressions.ts';

/** `${{ hashFiles('pattern', ...) }}` inside a cache key (single- or double-quoted patterns). */
const HASH_FILES = /\$\{\{\s*hashFiles\(([^)]*)\)\s*\}\}/g;
/** `${{ runner.os }}` and `${{ runner.arch }}`, the usual start of GitHub's cache keys (`Linux`, `X64`). */
const RUNNER = /\$\{\{\s*runner\.(os|arch)\s*\}\}/g;

/** The worker's OS and architecture as GitHub names them (runner.os, runner.arch). */
export interface RunnerNames {
  os: string;
  arch: string;
}
const ARG = /\s*(?:'([^']*)'|"([^"]*)")\s*(,|$)/y;

/** The patterns of one `hashFiles(...)` argument list, or null when it is not a list of quoted strings. */
export function hashFilesArgs(args: string): string[] | null {
  const out: string[] = [];
  ARG.lastIndex = 0;
  while (ARG.lastIndex < args.length) {
    const at = ARG.lastIndex;
    const m = ARG.exec(args);
    if (!m || m.index !== at) return null;
    out.push(m[1] ?? m[2]!);
    if (m[3] === '') break;
  }
  return out.length > 0 && out.every((p) => p.length > 0) ? out : null;
}

/**
 * A cache key with each `hashFiles(...)` blanked out (same length, so offsets still point into the
 * original), for the `${{ env/secrets }}` checks; and the problems of the `hashFiles` calls themselves.
 */
export function scanCacheKey(key: string): {
  rest: string;
  problems: Array<{ offset: number; message: string }>;
} {
  const problems: Array<{ offset: number; message: string }> = [];
  const rest = key
    .replace(HASH_FILES, (whole, args: string, offset: number) => {
      if (!hashFilesArgs(args))
        problems.push({
          offset,
          message: "hashFiles takes quoted patterns: hashFiles('**/package-lock.json')",
        });
      return ' '.repeat(whole.length);
    })
    .replace(RUNNER, (whole: string) => ' '.repeat(whole.length));
  // The cache protocol sends keys as one comma-separated list (as GitHub's does).
  const comma = rest.indexOf(',');
  if (comma >= 0) problems.push({ offset: comma, message: 'cache keys cannot contain ","' });
  return { rest, problems };
}

/**
 * Resolves a cache key: `hashFiles(...)` through `hash` (patterns relative to the checkout),
 * `runner.os`/`runner.arch` from the worker, then the `${{ env/secrets }}` references from the server's
 * environment.
 */
export async function resolveCacheKey(
  key: string,
  env: Readonly<Record<string, string>>,
  hash: (patterns: string[]) => Promise<string>,
  runner: RunnerNames,
  secretValues?: Set<string>,
): Promise<string> {
  const calls = [...key.matchAll(HASH_FILES)];
  const hashes = await Promise.all(calls.map((m) => hash(hashFilesArgs(m[1]!) ?? [])));
  let i = 0;
  const withHashes = key
    .replace(HASH_FILES, () => hashes[i++]!)
    .replace(RUNNER, (_whole, which: 'os' | 'arch') => runner[which]);
  return resolveTemplate(withHashes, env, secretValues);
}
