import type { Config } from '../../config.ts';
import { armExitDeadline } from '../../exit-deadline.ts';
import { createLogger } from '../../log.ts';
import { start } from '../../server.ts';

/**
 * How long stopping may take beyond PUSHCI_SHUTDOWN_GRACE_MS and PUSHCI_KILL_GRACE_MS (the cancelled
 * steps' time between SIGTERM and SIGKILL) before the process exits regardless: recording the
 * cancellations and closing connections took over 5 s on a loaded machine.
 */
const STOP_MARGIN_MS = 10_000;
/** How long after that a process still there (its exit stuck, no JavaScript running) is SIGKILLed. */
const KILL_MARGIN_MS = 5000;

/** Runs the server roles until SIGTERM or SIGINT, then stops them within the grace period. */
export async function runServer(
  config: Readonly<Config>,
  roles: { http: boolean; worker: boolean },
): Promise<number> {
  const log = createLogger(config.logLevel);
  const running = await start(config, { ...roles, log });
  const stopWithinMs = config.shutdownGraceMs + config.killGraceMs + STOP_MARGIN_MS;
  await new Promise<void>((resolve) => {
    // Persistent handlers, not once(): execa's exit hook re-raises a signal it sees no other listener
    // for, which would kill us mid-drain. A second signal means "now".
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting now');
        running.exitNow();
        process.exit(1);
      }
      stopping = true;
      armExitDeadline(stopWithinMs + KILL_MARGIN_MS);
      log.info({ signal }, 'stopping: no new jobs; running jobs get PUSHCI_SHUTDOWN_GRACE_MS to finish');
      resolve();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  // Stopping waits for running jobs (up to the grace), then closes connections. With Redis gone those
  // closes can wait for ever; a process told to stop must stop all the same.
  const deadline = setTimeout(() => {
    log.error({ after_ms: stopWithinMs }, 'could not stop cleanly in time; exiting');
    log.flush();
    running.exitNow();
    process.exit(1);
  }, stopWithinMs);
  deadline.unref();
  await running.close();
  clearTimeout(deadline);
  log.info('stopped');
  log.flush();
  return 0;
}
