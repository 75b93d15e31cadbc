import { join } from 'node:path';
import type { JobDirs } from './backend.ts';

/** The paths of a job's directory at `root` (see JobDirs); names them only, makes nothing. */
export function jobDirsIn(root: string): JobDirs {
  return {
    root,
    src: join(root, 'src'),
    scripts: join(root, 'scripts'),
    tmp: join(root, 'tmp'),
    home: join(root, 'home'),
  };
}
