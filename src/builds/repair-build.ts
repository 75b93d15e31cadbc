import type { Queue } from 'bullmq';
import { isFinal } from '../core/states.ts';
import type { Emitter } from '../notify/emit.ts';
import { failedJobReason } from '../queue/failed-job-reason.ts';
import { queueJobId, queueJobOptions } from '../queue/queued-job.ts';
import { leaveGroup, olderMemberActive, type GroupParts } from './concurrency-group.ts';
import type { Lifecycle } from './lifecycle.ts';

/** What repair() found half done and finished (empty: nothing). */
export type RepairFinding =
  /** complete() won but its process died before announcing: build.completed sent now. */
  | { kind: 'sent_build_completed' }
  /** A queued or running job had no queue entry: queued again. */
  | { kind: 'requeued_job'; job: string }
  /** A job's queue entry had failed and nobody recorded it: the job ended as error. */
  | { kind: 'ended_failed_job'; job: string; reason: string }
  /** A build waited for its concurrency group, which no longer held anything older: started. */
  | { kind: 'started_waiting_build' };

/** What repairBuild works with: the stores, the job queue, and the lifecycle's own moves. */
export interface RepairParts extends GroupParts {
  jobs: Queue;
  emitter: Emitter;
  lifecycle: Pick<Lifecycle, 'jobFinished' | 'startRoots' | 'advance'>;
}

/**
 * Finishes whatever a crashed process left half done for one build, idempotently: sends a missing
 * build.completed, re-queues jobs whose queue entry is gone, moves jobs whose needs are settled, starts
 * a group member nobody started, and completes a build whose jobs are all done.
 */
export async function repairBuild(parts: RepairParts, buildId: string): Promise<RepairFinding[]> {
  const { store, jobs, emitter, lifecycle } = parts;
  const record = await store.get(buildId);
  if (!record) {
    await store.markNotified(buildId);
    return [];
  }
  if (isFinal(record.status)) {
    if (record.notified) return [];
    // complete() won the compare-and-set but died before announcing: the message id makes this idempotent.
    await emitter.emit('build.completed', record);
    await store.markNotified(buildId);
    await leaveGroup(parts, record, (next) => lifecycle.startRoots(next));
    return [{ kind: 'sent_build_completed' }];
  }
  // Waiting for a person: nothing to repair until someone approves or cancels it.
  if (record.status === 'pending-approval') return [];
  const done: RepairFinding[] = [];
  for (const def of record.def.jobs) {
    const state = record.jobs.get(def.name)!;
    if (state.status !== 'queued' && state.status !== 'running') continue;
    const entry = await jobs.getJob(queueJobId(buildId, def.name));
    if (entry && (await entry.isFailed())) {
      // BullMQ failed it (it stalled too often, or the worker threw) and the process that should have
      // recorded that died first: without this the job would stay queued or running for ever.
      const reason = failedJobReason(entry);
      await lifecycle.jobFinished(buildId, def.name, { status: 'error', exitCode: null, reason });
      done.push({ kind: 'ended_failed_job', job: def.name, reason });
      continue;
    }
    if (entry) continue;
    await jobs.add(def.name, { buildId, job: def.name }, queueJobOptions(buildId, def.name));
    done.push({ kind: 'requeued_job', job: def.name });
  }
  // Not started yet (nothing queued or running, no job began; a re-run of failed jobs starts with kept
  // jobs finished): it may be waiting for its concurrency group.
  const notStarted =
    record.group !== null &&
    record.started_at === null &&
    record.def.jobs.every((j) => !['queued', 'running'].includes(record.jobs.get(j.name)!.status));
  if (notStarted) {
    if (await olderMemberActive(parts, record.group!, buildId)) return done; // still waiting: nothing starts
    await lifecycle.startRoots(record);
    done.push({ kind: 'started_waiting_build' });
  }
  await lifecycle.advance((await store.get(buildId)) ?? record);
  return done;
}
