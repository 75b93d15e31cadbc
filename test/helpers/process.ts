import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

export interface PushciProcess {
  proc: ChildProcess;
  output: string[];
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * Runs `pushci <args>` as a real child process, with only the given environment (plus PATH and HOME);
 * `root` runs another checkout's pushci (the bench's A/B comparisons).
 */
export function spawnPushci(
  args: string[],
  env: Record<string, string>,
  opts: { cwd?: string; root?: string } = {},
): PushciProcess {
  const proc = spawn(process.execPath, [join(opts.root ?? ROOT, 'src/cli.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { proc, output, exited };
}

/** Whether a process with this pid exists (signal 0). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
