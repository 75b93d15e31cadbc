import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A project that installs pushci's own production dependencies (a few hundred npm packages) from a
 * folder of tarballs, with no registry: each package of ROOT/node_modules packed as npm packs it
 * (`package/…`), and a package-lock.json whose `resolved` points at those files (with their integrity).
 * `npm ci --offline` installs it anywhere that can read `tarballs`.
 */
export function npmProject(
  root: string,
  tarballs: string,
): { packageJson: string; lock: string; count: number } {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    name: string;
    packages: Record<string, Record<string, unknown>>;
  };
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(tarballs, { recursive: true });
  const packages: Record<string, Record<string, unknown>> = {};
  const rootEntry = { ...lock.packages['']! };
  delete rootEntry.devDependencies;
  delete rootEntry.bin;
  delete rootEntry.engines;
  rootEntry.name = 'npm-bench';
  packages[''] = rootEntry;
  let count = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    // Development tools are left out (the Node binary package alone is 190 MB).
    if (path === '' || entry.dev || entry.link) continue;
    // Optional packages of other platforms stay in the lock as they are: npm skips them here.
    if (!existsSync(join(root, path))) {
      packages[path] = entry;
      continue;
    }
    const file = join(tarballs, `${path.replace(/[^A-Za-z0-9._-]+/g, '_')}-${String(entry.version)}.tgz`);
    if (!existsSync(file))
      execFileSync('tar', [
        '-czf',
        file,
        '--exclude=./node_modules',
        '--transform=s,^\\.,package,',
        '-C',
        join(root, path),
        '.',
      ]);
    const integrity = `sha512-${createHash('sha512').update(readFileSync(file)).digest('base64')}`;
    packages[path] = { ...entry, resolved: `file:${file}`, integrity };
    count++;
  }
  const packageJson = {
    name: 'npm-bench',
    version: '1.0.0',
    private: true,
    dependencies: pkg.dependencies,
  };
  const out = { name: 'npm-bench', version: '1.0.0', lockfileVersion: 3, requires: true, packages };
  return {
    packageJson: `${JSON.stringify(packageJson, null, 2)}\n`,
    lock: `${JSON.stringify(out, null, 2)}\n`,
    count,
  };
}
