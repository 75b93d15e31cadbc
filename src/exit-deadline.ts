import { spawn } from 'node:child_process';

/**
 * The watchdog's script: `cat` reads the pipe whose write end only this process holds, so it ends when
 * this process is gone (whatever way it went); if `timeout` ends it first, the process is still there.
 */
const WATCHDOG = [
  'timeout "$1" cat >/dev/null',
  '[ $? -eq 124 ] || exit 0',
  'echo "pushci: still running $1 s after it was told to stop (a stuck exit?): SIGKILL" >&2',
  'kill -KILL "$2"',
].join('; ');

/**
 * Starts a watchdog process that SIGKILLs this one if it is still there `ms` from now, and goes away by
 * itself as soon as this one exits. Node can deadlock in its own exit (nodejs/node#54918: the main
 * thread, tearing the process down, joins V8's compiler threads while they wait for a garbage collection
 * only the main thread could run): no JavaScript runs then, so no timer of ours can end the process, and
 * a `pushci serve` told to stop would stay for ever. The watchdog is its own session, so the Ctrl-C that
 * stopped pushci does not stop it too. Returns the watchdog's pid.
 */
export function armExitDeadline(ms: number): number | undefined {
  const seconds = (Math.max(ms, 1) / 1000).toFixed(3);
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'pushci-exit-deadline', seconds, String(process.pid)], {
    stdio: ['pipe', 'ignore', 'inherit'],
    detached: true,
  });
  // Without sh (or timeout) there is no watchdog; stopping goes on without one.
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  child.unref();
  return child.pid;
}
