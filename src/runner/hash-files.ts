import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readSync, readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { compileGlob, parseGlob } from '../pipelines/glob.ts';

/** Files looked at, at most; a checkout with more is hashed on the first ones in name order. */
const MAX_FILES = 100_000;

/**
 * GitHub's hashFiles(): the SHA-256 of the SHA-256 of each regular file under `root` that the patterns
 * match (in path order), or '' when none does. Symlinks are not followed, `.git` is not looked into.
 */
export function hashFiles(root: string, patterns: string[]): string {
  const globs = patterns.map((p) => {
    const g = parseGlob(p.replace(/^(!?)\.\//, '$1'));
    return { re: compileGlob(g.pattern), negated: g.negated };
  });
  // GitHub's order: the last matching pattern decides.
  const matches = (path: string) => globs.reduce((m, g) => (g.re.test(path) ? !g.negated : m), false);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (files.length >= MAX_FILES) return;
      const full = join(dir, name);
      const st = lstatSync(full);
      if (st.isDirectory()) {
        if (name !== '.git') walk(full);
      } else if (st.isFile()) {
        const rel = relative(root, full).split(sep).join('/');
        if (matches(rel)) files.push(full);
      }
    }
  };
  walk(root);
  if (files.length === 0) return '';
  const outer = createHash('sha256');
  const buf = Buffer.alloc(1 << 16);
  for (const f of files) {
    // O_NOFOLLOW: a file swapped for a symlink since the walk is not followed out of the checkout.
    const fd = openSync(f, constants.O_RDONLY | constants.O_NOFOLLOW);
    const inner = createHash('sha256');
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) inner.update(buf.subarray(0, n));
    } finally {
      closeSync(fd);
    }
    outer.update(inner.digest());
  }
  return outer.digest('hex');
}
