import { readdirSync, realpathSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { compileGlob, parseGlob } from '../pipelines/glob.ts';
import { FilesDigest } from './files-digest.ts';

/** Files looked at, at most; a checkout with more is hashed on the first ones in name order. */
const MAX_FILES = 100_000;
/**
 * Files and folders looked through, at most. The walk is synchronous (expressions are), so it holds up
 * the whole worker, web server included, while it runs: a step that made millions of empty files must
 * not be able to stall it for minutes with each hashFiles() of an action in its checkout.
 */
const MAX_ENTRIES = 200_000;

/**
 * GitHub's hashFiles(): the SHA-256 of the SHA-256 of each regular file under `root` that the patterns
 * match (in path order), or '' when none does. Symlinks are not followed, `.git` is not looked into.
 * More than `maxEntries` files and folders to look through is an ExpressionError (the step fails).
 */
export function hashFiles(root: string, patterns: string[], maxEntries = MAX_ENTRIES): string {
  const globs = patterns.map((p) => {
    const g = parseGlob(p.replace(/^(!?)\.\//, '$1'));
    return { re: compileGlob(g.pattern), negated: g.negated };
  });
  // GitHub's order: the last matching pattern decides.
  const matches = (path: string) => globs.reduce((m, g) => (g.re.test(path) ? !g.negated : m), false);
  const files: string[] = [];
  let seen = 0;
  const walk = (dir: string) => {
    // The entries' types come with the names (no stat each); a symlink is neither, so never followed.
    const entries = readable(
      () => readdirSync(dir, { withFileTypes: true }),
      relative(root, dir) || '.',
    ).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (files.length >= MAX_FILES) return;
      if (++seen > maxEntries)
        throw new ExpressionError(
          `hashFiles(): more than ${maxEntries} files and folders to look through in the checkout`,
        );
      const { name } = e;
      const full = join(dir, name);
      if (e.isDirectory()) {
        if (name !== '.git') walk(full);
      } else if (e.isFile()) {
        const rel = relative(root, full).split(sep).join('/');
        if (matches(rel)) files.push(full);
      }
    }
  };
  walk(root);
  if (files.length === 0) return '';
  // The files are read by the one reader of hashFiles() (its checks and its byte cap).
  const digest = new FilesDigest(root, realpathSync(root));
  for (const f of files) {
    const rel = relative(root, f).split(sep).join('/');
    try {
      digest.addSync(rel);
    } catch (err) {
      throw new ExpressionError(`hashFiles(): ${(err as Error).message}`);
    }
  }
  return digest.digest();
}

/** A file or folder a process of the job removed or moved since it was listed: the step's error, not the job's. */
function readable<T>(read: () => T, rel: string): T {
  try {
    return read();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ExpressionError(`hashFiles(): ${rel} cannot be read (${code})`);
  }
}
