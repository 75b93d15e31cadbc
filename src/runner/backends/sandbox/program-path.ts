import { accessSync, constants } from 'node:fs';
import { isAbsolute, join } from 'node:path';

/**
 * The absolute path of the executable `cmd` on `path` (a PATH value), or null; a file check, no
 * process to start. The sandbox starts its own programs by this path: a step's environment (which
 * `$GITHUB_PATH` extends with folders the step wrote) must never choose what runs outside the sandbox.
 */
export function programPath(cmd: string, path: string): string | null {
  for (const dir of path.split(':')) {
    if (!isAbsolute(dir)) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return null;
}
