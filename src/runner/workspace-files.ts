import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { matchesList, parseGlob, type Glob } from '../pipelines/glob.ts';

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
  const out: string[] = [];
  let seen = 0;
  const walk = async (rel: string) => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (path === '.git') continue;
      if (++seen > MAX_FILES) throw new Error(`more than ${MAX_FILES} files in the checkout`);
      if (e.isDirectory()) await walk(path);
      else if (matchesList(globs, path)) out.push(path);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * `hashFiles(...)` as GitHub computes it: SHA-256 over the SHA-256 of each matching regular file, in
 * path order; an empty string when nothing matches. Files are opened without following symlinks.
 */
export async function hashFiles(root: string, patterns: readonly string[]): Promise<string> {
  const all = createHash('sha256');
  let any = false;
  for (const rel of await selectFiles(root, patterns)) {
    const path = join(root, rel);
    if (!(await lstat(path)).isFile()) continue;
    const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    const one = createHash('sha256');
    for await (const chunk of createReadStream('', { fd: fh })) one.update(chunk as Buffer);
    all.update(one.digest());
    any = true;
  }
  return any ? all.digest('hex') : '';
}
