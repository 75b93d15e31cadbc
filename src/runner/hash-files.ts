import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, readdirSync, realpathSync } from 'node:fs';
import { formatBytes } from '../format-bytes.ts';
import { join, relative, sep } from 'node:path';
import { ExpressionError } from '../pipelines/expr/expression-error.ts';
import { compileGlob, parseGlob } from '../pipelines/glob.ts';
import { openedPath } from './opened-path.ts';

/** Files looked at, at most; a checkout with more is hashed on the first ones in name order. */
const MAX_FILES = 100_000;
/**
 * Files and folders looked through, at most. The walk is synchronous (expressions are), so it holds up
 * the whole worker, web server included, while it runs: a step that made millions of empty files must
 * not be able to stall it for minutes with each hashFiles() of an action in its checkout.
 */
const MAX_ENTRIES = 200_000;
/**
 * Bytes one hashFiles() reads, at most, for the same reason: a step can make a sparse file of many
 * gigabytes that costs its disk nothing, and reading it would hold the worker for minutes.
 */
export const MAX_HASH_BYTES = 512 * 1024 ** 2;

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
  const real = realpathSync(root);
  const outer = createHash('sha256');
  const buf = Buffer.alloc(1 << 16);
  let total = 0;
  for (const f of files) {
    const rel = relative(root, f);
    // O_NOFOLLOW: a file swapped for a symlink since the walk is not followed out of the checkout; a
    // folder on the way swapped for one (by a service, or a process a step left) shows in its path.
    // O_NONBLOCK: a file swapped for a FIFO opens at once instead of waiting, forever, for a writer.
    const fd = readable(
      () => openSync(f, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
      rel,
    );
    const inner = createHash('sha256');
    try {
      if (!fstatSync(fd).isFile() || openedPath(fd) !== join(real, rel))
        throw new ExpressionError(
          `hashFiles(): ${rel} was moved or replaced while it was read (a process of the job is changing the checkout)`,
        );
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
        total += n;
        if (total > MAX_HASH_BYTES)
          throw new ExpressionError(
            `hashFiles(): the matching files hold more than ${formatBytes(MAX_HASH_BYTES)} (reached at ${rel}); hash fewer files`,
          );
        inner.update(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
    outer.update(inner.digest());
  }
  return outer.digest('hex');
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
