/**
 * How many times a job may lose its worker (its lock expired: the process died or hung) before BullMQ
 * fails it instead of handing it to another worker.
 */
export const MAX_STALLED = 1;

/**
 * The reason a pushci job shows when its queue entry failed instead of returning a result: either it
 * stalled more often than MAX_STALLED (BullMQ counts that in `stalledCounter`), or the worker threw.
 */
export function failedJobReason(job: { stalledCounter: number; failedReason?: string | undefined }): string {
  return job.stalledCounter > MAX_STALLED
    ? 'the worker running this job stopped twice; giving up'
    : `pushci could not run the job: ${job.failedReason ?? 'no reason recorded'}`;
}
