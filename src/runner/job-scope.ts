import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { JobResult } from '../builds/lifecycle.ts';
import type { Keys } from '../queue/keys.ts';
import { jobStateField } from '../queue/build-hash.ts';
import { JobLog } from './job-log.ts';
import type { JobPlan } from './job-plan.ts';
import { createMasking, type LineCut } from './mask.ts';
import { createStepFileState, type StepFileState } from './step-files.ts';

/**
 * What every part of one job attempt shares: its log (every line masked), the masker that
 * `::add-mask::` grows while the job runs, what the steps' command files gathered, and the job's clock:
 * the signal that stops it (a cancel or its timeout) and how a stopped job ends.
 */
export interface JobScope {
  log: JobLog;
  mask: (text: string) => string;
  /** Where a step's line too long for one log line is cut: never inside a secret (each piece is masked alone). */
  cut: LineCut;
  addMask: (value: string) => void;
  fromSteps: StepFileState;
  /** The cancel the job was given (a user's cancel, a shutdown), without its timeout. */
  cancel: AbortSignal | undefined;
  /** Aborted by a cancel or by the job's timeout. */
  stop: AbortSignal;
  /** When the timeout fires (ms since the epoch). */
  deadline: number;
  timeoutMs: number;
  /** The reason a timed-out job gets, e.g. `job timed out after 60 min`. */
  timeoutText: string;
  /** The outcome of a job a cancel or its timeout stopped; `where` is said in the log. */
  stopped: (where: string | null) => JobResult;
  /**
   * Once the job was stopped: the signal and deadline of the steps that still run then (if: always()
   * or cancelled(), actions' post), PUSHCI_CANCEL_CLEANUP_MS from now; null when none may run (a
   * shutdown's cancel, or a forced one).
   */
  cleanup: () => { signal: AbortSignal; deadline: number } | null;
  /** Stops the timeout's timer (the job has ended). */
  close(): void;
}

export function openJobScope(
  deps: { config: Readonly<Config>; redis: Redis; keys: Keys },
  buildId: string,
  jobName: string,
  attempt: number,
  plan: Pick<JobPlan, 'job' | 'secrets'>,
  cancel: AbortSignal | undefined,
  force?: AbortSignal,
): JobScope {
  const { config } = deps;
  const secrets = plan.secrets;
  // ::add-mask:: adds values while the job runs, so the masker is rebuilt then.
  let masking = createMasking(secrets);
  const mask = (text: string) => masking.mask(text);
  const cut: LineCut = (text, max, final) => masking.cut(text, max, final);
  const addMask = (value: string) => {
    if (value.trim().length === 0 || secrets.has(value)) return;
    secrets.add(value);
    masking = createMasking(secrets);
  };
  // Only this attempt's lines: a stalled attempt that ends late writes nothing into its successor's log.
  const log = new JobLog(
    deps.redis,
    deps.keys.log(buildId, jobName),
    config.logMaxBytes,
    mask,
    { build: deps.keys.build(buildId), field: jobStateField(jobName), attempt },
    deps.keys.logAppendsChannel,
  );
  const minutes = plan.job.timeoutMinutes ?? config.jobTimeoutMinutes;
  const timeoutMs = minutes * 60_000;
  const timeoutText = `job timed out after ${minutes} min`;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const stop = cancel ? AbortSignal.any([cancel, timeout.signal]) : timeout.signal;
  const stopped = (where: string | null): JobResult => {
    if (cancel?.aborted) {
      if (where) log.system(`pushci: job canceled ${where}`);
      return { status: 'canceled', exitCode: null, reason: String(cancel.reason ?? 'canceled') };
    }
    if (where) log.system(`pushci: ${timeoutText} (${where})`);
    return { status: 'failure', exitCode: null, reason: timeoutText };
  };
  const cleanup = () => {
    if ((cancel?.aborted && cancel.reason === 'shutdown') || force?.aborted) return null;
    // Its own time; a forced cancel or a shutdown ends it, and so does a cancel after a timeout.
    const ends = [AbortSignal.timeout(config.cancelCleanupMs)];
    if (force) ends.push(force);
    if (cancel && !cancel.aborted) ends.push(cancel);
    return {
      signal: ends.length === 1 ? ends[0]! : AbortSignal.any(ends),
      deadline: Date.now() + config.cancelCleanupMs,
    };
  };
  return {
    log,
    mask,
    cut,
    cleanup,
    addMask,
    fromSteps: createStepFileState(),
    cancel,
    stop,
    deadline: Date.now() + timeoutMs,
    timeoutMs,
    timeoutText,
    stopped,
    close: () => clearTimeout(timer),
  };
}
