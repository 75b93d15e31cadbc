import type { Queue } from 'bullmq';
import type { Logger } from '../log.ts';
import type { JobStatus, PushEvent } from '../model.ts';
import type { Emitter } from '../notify/emit.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { skipMarker } from '../pipelines/match.ts';
import type { BuildRecord, BuildStore, NewBuild } from '../queue/store.ts';
import { newBuildId } from './ids.ts';
import { queueJobOptions } from './lifecycle.ts';

export interface CreateBuildsDeps {
  store: BuildStore;
  jobs: Queue;
  emitter: Emitter;
  log: Logger;
}

export interface CreatedBuild {
  id: string;
  pipeline: string;
  number: number;
  status: 'queued' | 'skipped';
}

/**
 * Stores one build per matched pipeline and queues the jobs that need nothing. Returns only after
 * Redis has both, so the receiver's 2xx means the builds are durable. A `[skip ci]` marker stores the
 * build as skipped and still sends `build.completed`, so required statuses are never left pending.
 */
export async function createBuilds(
  deps: CreateBuildsDeps,
  event: PushEvent,
  pipelines: readonly Pipeline[],
  trigger: 'push' | 'manual' | 'rerun' = 'push',
): Promise<CreatedBuild[]> {
  const marker = trigger === 'push' ? skipMarker(event.headMessage) : null;
  const created_at = new Date().toISOString();
  const builds: NewBuild[] = pipelines.map((def) => {
    const jobStatus: Record<string, JobStatus> = {};
    for (const j of def.jobs)
      jobStatus[j.name] = marker ? 'skipped' : j.needs.length === 0 ? 'queued' : 'pending';
    return {
      meta: {
        id: newBuildId(),
        pipeline: def.name,
        forge: event.forge,
        repository: event.repository,
        ref: event.ref,
        branch: event.branch ?? null,
        tag: event.tag ?? null,
        sha: event.after,
        before: event.before,
        message: event.headMessage,
        pusher: event.pusher,
        delivery_id: event.deliveryId,
        trigger,
        created_at,
      },
      def,
      status: marker ? 'skipped' : 'queued',
      reason: marker ? `the head commit message contains ${marker}` : null,
      jobStatus,
    };
  });
  const numbers = await deps.store.create(builds);

  const records: BuildRecord[] = builds.map((b, i) => ({
    meta: b.meta,
    number: numbers[i]!,
    def: b.def,
    status: b.status,
    reason: b.reason,
    started_at: null,
    finished_at: b.status === 'skipped' ? created_at : null,
    jobs: new Map(
      b.def.jobs.map((j) => [
        j.name,
        {
          status: b.jobStatus[j.name]!,
          attempt: 0,
          exit_code: null,
          reason: null,
          started_at: null,
          finished_at: null,
        },
      ]),
    ),
  }));
  const roots = builds.flatMap((b) =>
    b.status === 'queued'
      ? b.def.jobs
          .filter((j) => j.needs.length === 0)
          .map((j) => ({
            name: j.name,
            data: { buildId: b.meta.id, job: j.name },
            opts: queueJobOptions(b.meta.id, j.name),
          }))
      : [],
  );
  await Promise.all([
    roots.length ? deps.jobs.addBulk(roots) : null,
    ...records.map((r) => deps.emitter.emit(r.status === 'skipped' ? 'build.completed' : 'build.queued', r)),
  ]);
  for (const r of records) {
    deps.log.info(
      { build_id: r.meta.id, pipeline: r.meta.pipeline, delivery_id: event.deliveryId, status: r.status },
      'build created',
    );
  }
  return records.map((r) => ({
    id: r.meta.id,
    pipeline: r.meta.pipeline,
    number: r.number,
    status: r.status as 'queued' | 'skipped',
  }));
}
