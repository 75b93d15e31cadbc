import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitFor } from '../helpers/receiver.ts';

/** Whether a process runs (a zombie whose parent is gone and nobody reaped does not). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const MODULE = join(import.meta.dirname, '../../src/exit-deadline.ts');

/** A real node process that arms the deadline, prints the watchdog's pid, then runs `then`. */
function armed(ms: number, then: string) {
  const code = `import { armExitDeadline } from ${JSON.stringify(MODULE)};
console.log(armExitDeadline(${ms}));
${then}`;
  const proc = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const watchdog = () =>
    waitFor(() => (/^\d+$/m.test(out) ? Number(out.trim().split('\n')[0]) : null), 30_000);
  return { proc, exited, watchdog, err: () => err };
}

describe('armExitDeadline', () => {
  it('SIGKILLs a process whose main thread never runs JavaScript again (as in a stuck exit)', async () => {
    // Atomics.wait on a buffer nobody notifies blocks the main thread for good: no timer, no signal
    // handler of its own can end it, as when Node deadlocks inside process.exit.
    const p = armed(1000, 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);');
    try {
      const watchdog = await p.watchdog();
      const end = await Promise.race([
        p.exited,
        new Promise<null>((r) => setTimeout(() => r(null), 60_000).unref()),
      ]);
      assert.deepEqual(end, { code: null, signal: 'SIGKILL' }, p.err());
      assert.match(
        p.err(),
        /pushci: still running 1\.000 s after it was told to stop \(a stuck exit\?\): SIGKILL/,
      );
      await waitFor(() => !running(watchdog), 10_000, 'the watchdog to end after it killed');
    } finally {
      p.proc.kill('SIGKILL');
    }
  });

  it('lets a process exit with its own code, keeps nothing running, and goes away with it', async () => {
    // Nothing else to do: the process ends by itself, so the watchdog does not hold its event loop.
    const quiet = armed(60_000, '');
    assert.deepEqual(await quiet.exited, { code: 0, signal: null });
    const a = await quiet.watchdog();
    const exiting = armed(60_000, 'process.exitCode = 3; setTimeout(() => process.exit(), 100);');
    assert.deepEqual(await exiting.exited, { code: 3, signal: null });
    const b = await exiting.watchdog();
    for (const pid of [a, b])
      await waitFor(() => !running(pid), 10_000, `watchdog ${pid} to end with its process`);
    assert.equal(quiet.err() + exiting.err(), '');
  });
});
