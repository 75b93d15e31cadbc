import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesList, parseGlob, type Glob } from '../pipelines/glob.ts';
import { FilesDigest } from './files-digest.ts';

/**
 * Where the walk starts: the literal leading folders of each including pattern (`dist/**` → `dist`,
 * `a/b.txt` → `a/b.txt`), or the checkout itself when one starts with a wildcard. Nested starts fold
 * into their parent.
 */
function startingPoints(patterns: readonly string[]): string[] {
  const starts = patterns
    .filter((p) => !p.startsWith('!'))
    .map((p) => {
      const parts = p.replace(/\/+$/, '').split('/');
      const literal: string[] = [];
      for (const part of parts) {
        if (/[*?+[\]{}\\!]/.test(part)) break;
        literal.push(part);
      }
      return literal.join('/');
    });
  if (starts.includes('')) return [''];
  return [...new Set(starts)].filter((s) => !starts.some((o) => o !== s && s.startsWith(`${o}/`)));
}

/**
 * lstat of `rel` under `root`, or null when it does not exist or a folder on the way is a symlink (a
 * committed `a -> /` must not lead `a/b` out of the checkout).
 */
async function lstatInside(root: string, rel: string) {
  const parts = rel === '' ? [] : rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const st = await lstat(join(root, ...parts.slice(0, i))).catch(() => null);
    if (!st?.isDirectory()) return null;
  }
  return lstat(join(root, rel)).catch(() => null);
}

/** More files than this is refused rather than walked for ever. */
const MAX_FILES = 200_000;

/**
 * The files (and symlinks, never followed) under `root` that the patterns select, as sorted relative
 * paths. Patterns are GitHub globs; `!` excludes; a pattern naming a folder selects everything in it.
 * The walk uses lstat only, so a symlink the job committed cannot lead it out of `root`. `.git` is skipped.
 */
export async function selectFiles(root: string, patterns: readonly string[]): Promise<string[]> {
  const globs: Glob[] = patterns.flatMap((p) => {
    const g = parseGlob(p.replace(/\/+$/, ''));
    return [g, { ...g, pattern: `${g.pattern}/**` }];
  });
  const out = new Set<string>();
  let seen = 0;
  const walk = async (rel: string) => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (path === '.git') continue;
      if (++seen > MAX_FILES) throw new Error(`more than ${MAX_FILES} files to look through in the checkout`);
      if (e.isDirectory()) await walk(path);
      else if (matchesList(globs, path)) out.add(path);
    }
  };
  // Only the folders a pattern can reach: `dist/**` looks through dist/, not node_modules/.
  for (const start of startingPoints(patterns)) {
    const st = await lstatInside(root, start);
    if (!st) continue;
    if (st.isDirectory()) await walk(start);
    else if (start !== '' && matchesList(globs, start)) out.add(start);
  }
  return [...out].sort();
}

/**
 * `hashFiles(...)` as GitHub computes it: SHA-256 over the SHA-256 of each matching regular file, in
 * path order; an empty string when nothing matches. The files are read by the one reader of hashFiles()
 * (its checks and its byte cap), one after another.
 */
export async function hashFiles(root: string, patterns: readonly string[]): Promise<string> {
  const digest = new FilesDigest(root, await realpath(root));
  for (const rel of await selectFiles(root, patterns))
    if ((await lstat(join(root, rel))).isFile()) await digest.add(rel);
  return digest.digest();
}
