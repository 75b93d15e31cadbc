import type { Queue } from 'bullmq';
import { queueJobOptions, type JobRef } from '../queue/queued-job.ts';

/** Puts one job of a build on the jobs queue (its BullMQ id makes a second add of it do nothing). */
export async function enqueueJob(jobs: Queue, buildId: string, job: string): Promise<void> {
  const data: JobRef = { buildId, job };
  await jobs.add(job, data, queueJobOptions(buildId, job));
}
