import { copyFileSync, linkSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyPackage } from './copy-package.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * Makes a folder a sandboxed step can run an npm package from: under /var/tmp (the sandbox shows it;
 * /tmp is the job's own and the project is hidden), with the package and what it needs copied from the
 * project's node_modules, a `node` (a hard link to this Node, else a copy) and `script` saved as `file`.
 * The caller removes it.
 */
export function nodeClientDir(o: { prefix: string; pkg: string; file: string; script: string }): string {
  const dir = mkdtempSync(o.prefix);
  copyPackage(o.pkg, ROOT, dir);
  const node = realpathSync(process.execPath);
  try {
    linkSync(node, join(dir, 'node'));
  } catch {
    copyFileSync(node, join(dir, 'node'));
  }
  writeFileSync(join(dir, o.file), o.script);
  return dir;
}
