import { hash } from 'node:crypto';
import type { KeysMap } from 'bullmq';
import { addStandardJob } from 'bullmq/dist/esm/scripts/addStandardJob-9.js';

/** BullMQ job id of one job of one build (`.` cannot appear in either part). */
export const queueJobId = (buildId: string, job: string) => `${buildId}.${job}`;

/** What a BullMQ job of the jobs queue carries. */
export interface JobRef {
  buildId: string;
  job: string;
}

export function queueJobOptions(buildId: string, job: string) {
  return {
    jobId: queueJobId(buildId, job),
    // A failed step is a result, not a reason to retry; only a crashed worker gets the job again.
    attempts: 1,
    removeOnComplete: true,
    removeOnFail: { age: 7 * 86400 },
  };
}

// The keys BullMQ's add-standard-job script takes, in its order (its header documents them).
const SCRIPT_KEYS = ['wait', 'paused', 'meta', 'id', 'completed', 'delayed', 'active', 'events', 'marker'];

/**
 * The SHA-256 of the add-job script of BullMQ 6.7.0, which queue/lua/create.lua follows when it queues a
 * build's jobs (what that script writes for a plain job, in fewer commands).
 */
const KNOWN_ADD_JOB = '2eee45c9ffc54d24681b737f926016a7f7464f0d32a5f87f623bffa2fc55413c';

if (addStandardJob.keys !== SCRIPT_KEYS.length || hash('sha256', addStandardJob.content) !== KNOWN_ADD_JOB) {
  // Another BullMQ may store or signal a job differently: fail at start, not with jobs no worker sees.
  throw new Error(
    'the installed BullMQ adds jobs with a script pushci does not know; pin bullmq to 6.7.0 (src/queue/lua/create.lua follows its add-job script)',
  );
}

/** The keys of a queue that BullMQ's add-job script takes, in its order (from BullMQ's `queue.keys`). */
export function addJobKeys(queueKeys: KeysMap): string[] {
  return SCRIPT_KEYS.map((k) => queueKeys[k]!);
}

/** The options every job of a build is queued with, but its id: the create script adds that. */
export const JOB_OPTIONS_TEMPLATE = (() => {
  const { jobId: _, ...rest } = queueJobOptions('b', 'j');
  return JSON.stringify(rest);
})();

/** The three strings the create script takes for one job of a build (queue/lua/create.lua). */
export function queueJobArgs(buildId: string, job: string): [string, string, string] {
  const data: JobRef = { buildId, job };
  return [job, queueJobId(buildId, job), JSON.stringify(data)];
}
