import { execFile } from 'node:child_process';

/** Bytes allocated under `dir` (one filesystem), or null when `du` fails. */
export function diskUsage(dir: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('du', ['-s', '-x', '--block-size=1', dir], { timeout: 60_000 }, (err, stdout) => {
      const n = Number(/^(\d+)/.exec(String(stdout))?.[1]);
      resolve(Number.isFinite(n) && n >= 0 ? n : err ? null : null);
    });
  });
}
