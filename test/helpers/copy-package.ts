import { cpSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

/**
 * Copies an installed npm package and everything it needs at run time (resolved the way Node resolves
 * them, nested `node_modules` included) from `root`'s node_modules into `dir/node_modules`, so a script
 * in a sandbox that hides the project can import it.
 */
export function copyPackage(name: string, root: string, dir: string): void {
  const modules = join(root, 'node_modules');
  const seen = new Set<string>();
  const tops = new Set<string>();
  const visit = (pkgDir: string) => {
    if (seen.has(pkgDir)) return;
    seen.add(pkgDir);
    const parts = relative(modules, pkgDir).split(sep);
    tops.add(parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies?: object;
      optionalDependencies?: object;
    };
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) {
      let found: string | null = null;
      for (let d = pkgDir; d.length > modules.length && !found; d = dirname(d)) {
        const candidate = join(d, 'node_modules', dep);
        if (existsSync(join(candidate, 'package.json'))) found = candidate;
      }
      found ??= existsSync(join(modules, dep, 'package.json')) ? join(modules, dep) : null;
      if (found) visit(found);
    }
  };
  visit(join(modules, name));
  for (const top of tops) cpSync(join(modules, top), join(dir, 'node_modules', top), { recursive: true });
}
