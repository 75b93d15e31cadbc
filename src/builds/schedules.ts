import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { ScheduleEvent } from '../core/event.ts';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { logErrors } from '../log-errors.ts';
import { SCHEDULES_QUEUE } from '../queue/keys.ts';
import { branchHead, defaultBranch, gitEnv } from '../runner/git.ts';
import { forgetTicks, recordTick } from './schedule-ticks.ts';
import { cloneUrlFor } from './clone-url.ts';
import { createBuildsForPushes, type CreateBuildsDeps } from './create-builds.ts';

/** What a schedule's tick carries: which schedule of which pipeline fired. */
export interface ScheduleTick {
  pipeline: string;
  index: number;
  cron: string;
  branch: string | null;
  always: boolean;
}

/** A schedule's id among the queue's job schedulers: the pipeline and the schedule's place in `on.schedule`. */
export const schedulerId = (pipeline: string, index: number) => `${pipeline}#${index}`;

export interface SchedulesDeps extends CreateBuildsDeps {
  config: Readonly<Config>;
  redis: Redis;
  pipelines: () => readonly Pipeline[];
}

const GONE = 'the schedule is no longer in the pipeline';

/** What one tick did, for the log and for tests. */
export type TickResult =
  { built: string; sha: string; branch: string } | { skipped: string; sha?: string; branch?: string };

/**
 * Fires one tick of a schedule and keeps what it did for the pipeline's page (recordTick): the branch (default: the repository's default branch, asked from the
 * clone URL) is resolved to its head now, and built, unless this schedule's last build already built
 * that commit successfully (`always: true` builds anyway). `tickId` is unique per tick (BullMQ's job id),
 * so a tick that runs twice (a worker died mid-way) still creates one build.
 */
export async function fireSchedule(
  deps: SchedulesDeps,
  tick: ScheduleTick,
  tickId: string,
): Promise<TickResult> {
  const at = new Date().toISOString();
  const scheduler = schedulerId(tick.pipeline, tick.index);
  let result: TickResult;
  try {
    result = await fire(deps, tick, tickId);
  } catch (err) {
    await recordTick(deps.redis, deps.store.keys, scheduler, { at, error: (err as Error).message });
    throw err;
  }
  if (!('skipped' in result && result.skipped === GONE))
    await recordTick(deps.redis, deps.store.keys, scheduler, { at, ...result });
  return result;
}

async function fire(deps: SchedulesDeps, tick: ScheduleTick, tickId: string): Promise<TickResult> {
  const def = deps.pipelines().find((p) => p.name === tick.pipeline);
  const schedule = def?.schedules?.[tick.index];
  if (!def || !schedule || schedule.cron !== tick.cron || schedule.branch !== tick.branch)
    return { skipped: GONE };
  const forge = def.forge ?? 'github';
  const env = gitEnv(deps.config.env);
  const url = cloneUrlFor(def, forge, def.repository, deps.config);
  // A local path is no secret and says which copy is meant; a URL may carry a token.
  const where = /^(\/|file:)/.test(url) ? `the repository at ${url}` : "the pipeline's clone-url";
  const branch = tick.branch ?? (await defaultBranch(url, env));
  if (!branch)
    return {
      skipped: `${where} names no default branch (its HEAD is not on a branch, as in a working copy with a detached HEAD, and it has no origin/HEAD): give the schedule a branch:`,
    };
  const ref = `refs/heads/${branch}`;
  const sha = await branchHead(url, branch, env);
  if (!sha)
    return {
      skipped: `branch ${branch} is not in ${where} (neither refs/heads/${branch} nor, in a working copy, refs/remotes/origin/${branch})`,
      branch,
    };
  const lastKey = deps.store.keys.scheduleLast(schedulerId(def.name, tick.index));
  if (!tick.always) {
    const lastId = await deps.redis.get(lastKey);
    const last = lastId ? await deps.store.get(lastId) : null;
    if (last && last.meta.sha === sha && last.status === 'success')
      return {
        skipped: `build ${last.meta.id} of this schedule already built ${sha} successfully`,
        sha,
        branch,
      };
  }
  const event: ScheduleEvent = {
    kind: 'schedule',
    cron: tick.cron,
    forge,
    deliveryId: `schedule:${tickId}`,
    repository: def.repository,
    ref,
    branch,
    before: '0'.repeat(sha.length),
    after: sha,
    headMessage: null,
    pusher: null,
  };
  const r = await createBuildsForPushes(deps, [{ event, pipelines: [def] }], {
    key: deps.store.keys.seen('schedule', tickId),
    ttlMs: 24 * 3600_000,
  });
  const id = r.duplicate ? r.seen.builds[0]?.id : r.builds[0]?.id;
  if (!id) return { skipped: 'nothing was created', sha, branch };
  if (!r.duplicate) await deps.redis.set(lastKey, id);
  return { built: id, sha, branch };
}

/**
 * Scheduled builds as BullMQ job schedulers, one per `on.schedule` entry: BullMQ makes one job per tick
 * however many pushci processes upsert the same scheduler, and one worker takes it, so a tick builds
 * once across the cluster. `sync` makes the schedulers match the pipelines (added, changed, removed);
 * it runs at start and after every reload of the pipeline files.
 */
export async function startSchedules(
  deps: SchedulesDeps,
  connection: Redis,
): Promise<{ sync(): Promise<void>; close(): Promise<void> }> {
  const { config, log } = deps;
  const queue = new Queue(SCHEDULES_QUEUE, { connection, prefix: config.queuePrefix });
  logErrors(queue, log, 'schedules queue');
  let syncing: Promise<void> = Promise.resolve();
  const syncNow = async () => {
    const wanted = new Map<string, ScheduleTick>();
    for (const p of deps.pipelines())
      (p.schedules ?? []).forEach((s, index) =>
        wanted.set(schedulerId(p.name, index), {
          pipeline: p.name,
          index,
          cron: s.cron,
          branch: s.branch,
          always: s.always,
        }),
      );
    const gone: string[] = [];
    for (const s of await queue.getJobSchedulers(0, -1)) {
      if (wanted.has(s.key)) continue;
      // Its tick first: once a scheduler is gone, so is what its last tick did (a tick that starts
      // after the pipeline changed finds its schedule gone and records nothing).
      await forgetTicks(deps.redis, deps.store.keys, [s.key]);
      await queue.removeJobScheduler(s.key);
      gone.push(s.key);
    }
    // Again once they are removed: a tick already running may have recorded in between. One recording
    // later than this finds its scheduler gone and forgets itself (the tick's processor below).
    await forgetTicks(deps.redis, deps.store.keys, gone);
    for (const [id, tick] of wanted) {
      await queue.upsertJobScheduler(
        id,
        { pattern: tick.cron, tz: 'UTC' },
        { name: 'tick', data: tick, opts: { removeOnComplete: 100, removeOnFail: 100, attempts: 3 } },
      );
    }
  };
  const worker = new Worker(
    SCHEDULES_QUEUE,
    async (job: Job<ScheduleTick>) => {
      const scheduler = schedulerId(job.data.pipeline, job.data.index);
      let result: TickResult;
      try {
        result = await fireSchedule(deps, job.data, String(job.id));
      } finally {
        // A tick still running while `sync` removed its schedule may record after sync forgot its ticks
        // for the last time; that forgetting came after the removal, so the scheduler is gone by now.
        if (!(await queue.getJobScheduler(scheduler)))
          await forgetTicks(deps.redis, deps.store.keys, [scheduler]);
      }
      const at = { pipeline: job.data.pipeline, cron: job.data.cron, ...result };
      if ('built' in result) log.info({ ...at, build_id: result.built }, 'schedule fired');
      else log.info(at, 'schedule fired; nothing to build');
      return result;
    },
    { connection, prefix: config.queuePrefix, concurrency: 1 },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'schedules worker error'));
  worker.on('failed', (job, err) =>
    log.warn({ pipeline: job?.data.pipeline, err: err.message }, 'a schedule could not fire'),
  );
  return {
    sync() {
      // One sync at a time: a reload during a sync waits for it, then applies the newest pipelines.
      syncing = syncing.then(syncNow, syncNow).catch((err: Error) => {
        log.warn({ err: err.message }, 'could not update the schedules');
      });
      return syncing;
    },
    async close() {
      await Promise.allSettled([worker.close(), queue.close()]);
    },
  };
}
