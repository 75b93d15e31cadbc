/**
 * The states of builds and jobs, and the one table of the moves between them. The build store is the
 * only writer of state fields and refuses a move this table does not list (a bug, not a race: races
 * are lost compare-and-sets, and the loser does nothing).
 */

export const FINAL_STATUSES = ['success', 'failure', 'canceled', 'error', 'skipped'] as const;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

/**
 * A build: `pending-approval` (a fork's pull request waits until someone approves it, then `queued`, or
 * cancels it), `queued`, `running`, then final.
 */
export const BUILD_STATUSES = ['pending-approval', 'queued', 'running', ...FINAL_STATUSES] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/** A job: `pending` (waiting for the jobs it needs), `queued`, `running`, then final. */
export const JOB_STATUSES = ['pending', 'queued', 'running', ...FINAL_STATUSES] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

const FINAL: ReadonlySet<string> = new Set(FINAL_STATUSES);

/** A build or job in this state is done for good. */
export function isFinal(status: JobStatus | BuildStatus): status is FinalStatus {
  return FINAL.has(status);
}

/**
 * Where a job may go from each state:
 * - pending → queued when its needs are settled and it runs; skipped when they did not go its way;
 *   canceled when the build was cancelled first.
 * - queued → running when a worker takes it; canceled (cancel, or the worker found the build
 *   cancelled); error (the queue failed it); skipped (its path filters exclude the commit).
 * - running → running again (a new attempt after its worker died); any final state.
 */
export const JOB_MOVES: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  pending: ['queued', 'skipped', 'canceled'],
  queued: ['running', 'canceled', 'error', 'skipped'],
  running: ['running', ...FINAL_STATUSES],
  success: [],
  failure: [],
  canceled: [],
  error: [],
  skipped: [],
};

/**
 * Where a build may go: pending-approval → queued when someone approves it, or canceled; queued →
 * running when its first job starts; queued or running → a final state once every job is final (a
 * build can end before any job ran: all cancelled, skipped, or kept by a re-run of failed jobs).
 */
export const BUILD_MOVES: Readonly<Record<BuildStatus, readonly BuildStatus[]>> = {
  'pending-approval': ['queued', 'canceled'],
  queued: ['running', ...FINAL_STATUSES],
  running: [...FINAL_STATUSES],
  success: [],
  failure: [],
  canceled: [],
  error: [],
  skipped: [],
};

export function canMoveJob(from: JobStatus, to: JobStatus): boolean {
  return JOB_MOVES[from].includes(to);
}

export function canMoveBuild(from: BuildStatus, to: BuildStatus): boolean {
  return BUILD_MOVES[from].includes(to);
}
