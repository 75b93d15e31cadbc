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
  /** `group`: in a process group of its own, as a shell runs it (so the test can signal the group). */
  opts: { cwd?: string; root?: string; group?: boolean } = {},
): PushciProcess {
  const proc = spawn(process.execPath, [join(opts.root ?? ROOT, 'src/cli.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.group ? { detached: true } : {}),
  });
  const output: string[] = [];
  proc.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  guardStop(proc, output);
  return { proc, output, exited };
}

/** How long a pushci told to stop may take before the tests kill it (it exits by 45 s; its watchdog kills it at 50 s). */
const STOP_GUARD_MS = 55_000;

/**
 * A pushci sent a signal other than SIGKILL is SIGKILLed if it is still there STOP_GUARD_MS later, with
 * a line in its output saying so. Node can deadlock in its own exit (nodejs/node#54918: the main thread
 * joins compiler threads that wait for a garbage collection only it can run; seen once here, 13 minutes
 * after SIGTERM, every thread parked); no JavaScript runs then, so only pushci's watchdog process
 * (src/exit-deadline.ts) can end it. Should that fail too, the child's pipes would keep the test file,
 * and the whole test run, waiting for ever.
 * A test that checks how pushci exits still sees the SIGKILL and fails; one that only stops it goes on.
 */
function guardStop(proc: ChildProcess, output: string[]): void {
  const kill = proc.kill.bind(proc);
  proc.kill = (signal?: NodeJS.Signals | number) => {
    const sent = kill(signal);
    if (signal !== 'SIGKILL' && signal !== 9 && sent)
      setTimeout(() => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        output.push(
          `test harness: pushci had not exited ${STOP_GUARD_MS} ms after ${signal ?? 'SIGTERM'}: SIGKILL\n`,
        );
        console.error(
          `pushci (pid ${proc.pid}) had not exited ${STOP_GUARD_MS} ms after ${signal ?? 'SIGTERM'}: SIGKILL`,
        );
        kill('SIGKILL');
      }, STOP_GUARD_MS).unref();
    return sent;
  };
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
