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

if (addStandardJob.keys !== SCRIPT_KEYS.length || !/KEYS\[9\] marker key/.test(addStandardJob.content)) {
  // An upgrade of BullMQ changed the script's contract: fail at start, not at the first push.
  throw new Error('the installed BullMQ has an add-job script pushci does not know; pin bullmq to 6.x');
}

/**
 * BullMQ's own Lua script that adds a job to a queue, as a function another script can call:
 * `bullmqAddStandardJob(KEYS, ARGV)` returns the job id. It is the script of the installed BullMQ, read
 * from its package (not a copy), so the intake can store builds and queue their jobs in one atomic
 * round trip, with exactly what `Queue.add` would write (test/integration/queued-job.test.ts compares
 * the two).
 */
export const ADD_JOB_LUA = `local function bullmqAddStandardJob(KEYS, ARGV)\n${addStandardJob.content}\nend\n`;

/** The keys of a queue that `bullmqAddStandardJob` takes (from BullMQ's `queue.keys`). */
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
