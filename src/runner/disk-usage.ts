import { execFile } from 'node:child_process';

/**
 * Bytes allocated under `dir` (one filesystem), or with `'inodes'` the files, folders and links there
 * (empty files take no blocks, but each takes one of the file system's inodes); null when `du` fails.
 */
export function diskUsage(dir: string, unit: 'bytes' | 'inodes' = 'bytes'): Promise<number | null> {
  return new Promise((resolve) => {
    const measure = unit === 'inodes' ? '--inodes' : '--block-size=1';
    execFile('du', ['-s', '-x', measure, dir], { timeout: 60_000 }, (err, stdout) => {
      const n = Number(/^(\d+)/.exec(String(stdout))?.[1]);
      resolve(Number.isFinite(n) && n >= 0 ? n : err ? null : null);
    });
  });
}
