import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { canMoveBuild, canMoveJob, isFinal, type BuildStatus, type JobStatus } from '../core/states.ts';
import type { Emitter } from '../notify/emit.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { BuildRecord, JobState } from '../queue/build-record.ts';
import type { BuildEnd, BuildStore } from '../queue/store.ts';
import { buildReason, buildStatus } from './build-status.ts';
import { joinGroup, leaveGroup, type GroupParts } from './concurrency-group.ts';
import { dependentJobMove } from './dependent-job-move.ts';
import { enqueueJob } from './enqueue-job.ts';
import { repairBuild, type RepairFinding } from './repair-build.ts';

export interface JobResult {
  status: Extract<JobStatus, 'success' | 'failure' | 'canceled' | 'error' | 'skipped'>;
  exitCode: number | null;
  reason: string | null;
  /** The job's `outputs:`, evaluated when it ended (for `needs.<job>.outputs`). */
  outputs?: Record<string, string>;
  /** `::error::`, `::warning::` and `::notice::` of its steps. */
  annotations?: JobState['annotations'];
  /** What its steps wrote to $GITHUB_STEP_SUMMARY (Markdown). */
  summary?: string;
}

/** A cancellation request every worker process hears (Redis pub/sub), whichever holds the job. */
export interface CancelMessage {
  buildId: string;
  reason: string;
  /** Only these jobs of the build (a matrix's fail-fast); absent: all of them. */
  jobs?: string[];
  /**
   * A second cancel: the steps still running after the first (if: always() or cancelled(), actions'
   * post) end too, at once.
   */
  force?: true;
}

/**
 * Whether a job still runs once its build was cancelled: the build had started running (never a build
 * waiting for approval or still queued) and the job's if: calls always() or cancelled() (GitHub's rule).
 */
export function runsAfterCancel(record: Pick<BuildRecord, 'def' | 'status'>, job: string): boolean {
  return record.status === 'running' && record.def.jobs.find((j) => j.name === job)?.if === 'always';
}

/**
 * The state machine of builds and jobs. Every transition is a compare-and-set in Redis, so whichever
 * process wins a transition is the only one that acts on it: one `build.started`, one `build.completed`,
 * one enqueue per job, however many workers race.
 */
export class Lifecycle {
  private readonly store: BuildStore;
  private readonly jobs: Queue;
  private readonly emitter: Emitter;
  private readonly log: Logger;
  private readonly redis: ScriptRedis;

  constructor(store: BuildStore, jobs: Queue, emitter: Emitter, log: Logger, redis: Redis) {
    this.store = store;
    this.jobs = jobs;
    this.emitter = emitter;
    this.log = log;
    this.redis = withScripts(redis);
  }

  /**
   * Puts a new build in its concurrency group and starts it unless it must wait. Older queued builds of
   * the group are superseded; an older running one is cancelled with cancel-in-progress, otherwise the
   * new build waits until it ends. Builds without a group start at once.
   */
  async admit(record: BuildRecord, opts: { hold?: boolean } = {}): Promise<void> {
    if (record.group === null) return this.startRoots(record);
    const wait = await joinGroup(this.groupParts(), record.group, record, (id, reason, by) =>
      this.cancel(id, reason, by),
    );
    // Waiting for approval: joined the group (and superseded what it replaces), starts when approved.
    if (opts.hold) return;
    if (wait) {
      await this.store.setWaitingReason(
        record.meta.id,
        `waiting for build ${wait} (concurrency group "${record.group}")`,
      );
      return;
    }
    await this.startRoots(record);
  }

  /**
   * Queues the jobs that need nothing (each only once, whoever calls). A build that starts with some
   * jobs finished (a re-run of failed jobs) also has jobs whose needs are settled already: those move on.
   */
  async startRoots(record: BuildRecord): Promise<void> {
    const settled = record.def.jobs.some(
      (d) =>
        d.needs.length > 0 &&
        record.jobs.get(d.name)!.status === 'pending' &&
        d.needs.every((n) => isFinal(record.jobs.get(n)!.status)),
    );
    for (const def of record.def.jobs) {
      if (def.needs.length > 0) continue;
      const res = await this.store.moveJob(record.meta.id, def.name, ['pending'], 'queued');
      if (res.ok) await enqueueJob(this.jobs, record.meta.id, def.name);
    }
    if (settled) await this.advance((await this.store.get(record.meta.id)) ?? record);
  }

  /**
   * Marks a job running (a new attempt when a crashed worker had it). Returns null when the job must not
   * run: it already finished, or the build was cancelled (the job is then recorded as canceled).
   */
  async jobStarted(
    buildId: string,
    job: string,
    /** The record as the caller just read it, to spare a second read. */
    loaded?: BuildRecord | null,
    /** The backend the attempt runs on, shown on the job (and `unsandboxed` on the build). */
    runner?: 'sandbox' | 'host',
  ): Promise<{ record: BuildRecord; attempt: number } | null> {
    const before = loaded === undefined ? await this.store.get(buildId) : loaded;
    const state = before?.jobs.get(job);
    if (!before || !state || isFinal(state.status) || isFinal(before.status)) return null;
    if (before.cancelReason && !runsAfterCancel(before, job)) {
      await this.jobFinished(buildId, job, {
        status: 'canceled',
        exitCode: null,
        reason: before.cancelReason,
      });
      return null;
    }
    const next: JobState = {
      attempt: state.attempt + 1,
      exit_code: null,
      reason:
        state.attempt > 0
          ? `attempt ${state.attempt + 1}: the worker running attempt ${state.attempt} stopped`
          : null,
      started_at: new Date().toISOString(),
      finished_at: null,
      ...(runner ? { runner } : {}),
    };
    // The build moves to running with its first job, in the same round trip (unless a cancel was asked for).
    const { ok, buildMoved, record } = await this.store.startJob(
      buildId,
      job,
      ['queued', 'running'],
      next,
      next.started_at!,
    );
    if (!ok || !record) return null;
    if (record.cancelReason && !runsAfterCancel(record, job)) {
      // Cancelled between our first look and the compare-and-set: the broadcast may have missed us.
      await this.jobFinished(buildId, job, {
        status: 'canceled',
        exitCode: null,
        reason: record.cancelReason,
      });
      return null;
    }
    if (buildMoved) await this.emitter.emit('build.started', record);
    return { record, attempt: next.attempt };
  }

  /**
   * Records a job's result, then starts or skips what depended on it and completes the build when done.
   * Returns whether this result was recorded (false: the job had ended, or a newer attempt has it).
   */
  async jobFinished(
    buildId: string,
    job: string,
    result: JobResult,
    /**
     * The record as `jobStarted` returned it to the worker running the job, to spare a read: the job's
     * details do not change while it runs (its status is checked again by the compare-and-set). Its
     * attempt is the one this result ends: once a newer attempt has the job, the result changes nothing.
     */
    started?: BuildRecord,
  ): Promise<boolean> {
    const current = started ?? (await this.store.get(buildId));
    const state = current?.jobs.get(job);
    if (!current || !state) return false;
    const done: JobState = {
      ...state,
      exit_code: result.exitCode,
      reason: result.reason,
      finished_at: new Date().toISOString(),
      ...(result.outputs && Object.keys(result.outputs).length > 0 ? { outputs: result.outputs } : {}),
      ...(result.annotations?.length ? { annotations: result.annotations } : {}),
      ...(result.summary ? { summary: result.summary } : {}),
    };
    // A result from the states that can reach it: success or failure only from running.
    const from = (['running', 'queued'] as const).filter((f) => canMoveJob(f, result.status));
    const took = done.started_at ? (Date.parse(done.finished_at!) - Date.parse(done.started_at)) / 1000 : NaN;
    const seconds = Number.isFinite(took) ? took : undefined;
    // The worker's own result counts the duration in its compare-and-set (one write, one sync of
    // Redis's file, fewer), and ends the build there too when it is the last job; another path's in a
    // call of its own once its move happened.
    if (!started) {
      const { ok, record } = await this.store.moveJob(buildId, job, from, result.status, done);
      if (!ok || !record) return false;
      if (seconds !== undefined) await this.store.recordJobDuration(seconds);
      await this.emitter.emit('job.completed', record, job);
      await this.advance(record);
      return true;
    }
    const end = lastJobEnd(started, job, { ...done, status: result.status });
    const moved = await this.store.moveAttempt(
      buildId,
      job,
      state.attempt,
      from,
      result.status,
      done,
      seconds,
      end,
    );
    const { ok, record } = moved;
    if (!ok || !record) return false;
    // Its webhook shows the build as it was before it ended, as when the two were separate moves.
    await this.emitter.emit('job.completed', moved.beforeEnd ?? record, job);
    if (moved.buildEnded) await this.announceEnd(record);
    else await this.advance(record);
    return true;
  }

  /** Moves pending jobs whose needs are settled to queued or skipped; completes the build when nothing is left. */
  async advance(start: BuildRecord): Promise<void> {
    let record = start;
    for (let changed = true; changed;) {
      changed = false;
      for (const def of record.def.jobs) {
        if (record.jobs.get(def.name)!.status !== 'pending') continue;
        if (def.needs.length === 0) continue; // roots are started by admit/startRoots
        const move = dependentJobMove(record, def);
        if (!move) continue;
        const { status: _, ...state } = record.jobs.get(def.name)!;
        const res =
          move.to === 'queued'
            ? await this.store.moveJob(record.meta.id, def.name, ['pending'], 'queued')
            : await this.store.moveJob(record.meta.id, def.name, ['pending'], move.to, {
                ...state,
                reason: move.reason,
              });
        if (res.record) record = res.record;
        if (res.ok && move.to === 'queued') await enqueueJob(this.jobs, record.meta.id, def.name);
        changed ||= res.ok;
      }
    }
    if ([...record.jobs.values()].every((j) => isFinal(j.status))) {
      const status = buildStatus(record);
      await this.complete(record, status, buildReason(record, status));
    }
  }

  /**
   * Cancels a build: jobs not yet running end as canceled at once; running ones are told through the
   * broadcast, wherever they run, and end as canceled when their processes are gone. Returns false when
   * the build had already finished.
   */
  async cancel(
    buildId: string,
    reason: string,
    supersededBy?: string,
    /** A user's cancel (API, CLI): when the build was cancelled already, it forces the end (see below). */
    opts: { force?: boolean } = {},
  ): Promise<boolean> {
    const record = await this.store.get(buildId);
    if (!record || isFinal(record.status)) return false;
    // The first cancel wins: its reason and superseder stand. A user's second cancel forces the end: the
    // steps and jobs still running after the first (always(), cancelled(), post steps) stop at once, and
    // those not started yet never start. A newer build superseding it again changes nothing.
    const first = await this.store.requestCancel(buildId, reason, supersededBy);
    if (!first && !opts.force) return true;
    // As on GitHub, after a first cancel a job of a running build whose if: calls always() or cancelled()
    // still runs (or waits for its needs); every other job not started yet ends now.
    await this.cancelWaitingJobs(record, reason, (name) => !first || !runsAfterCancel(record, name));
    const message: CancelMessage = first ? { buildId, reason } : { buildId, reason, force: true };
    await this.redis.publish(this.store.keys.cancelChannel, JSON.stringify(message));
    const after = await this.store.get(buildId);
    if (after) await this.advance(after);
    this.log.info({ build_id: buildId, reason }, first ? 'build cancel requested' : 'build cancel forced');
    return true;
  }

  /** Moves the build's pending and queued jobs that `which` picks to canceled. */
  private async cancelWaitingJobs(
    record: BuildRecord,
    reason: string,
    which: (name: string) => boolean,
  ): Promise<void> {
    for (const [name, state] of record.jobs) {
      if (state.status !== 'pending' && state.status !== 'queued') continue;
      if (!which(name)) continue;
      const { status: _, ...details } = state;
      await this.store.moveJob(record.meta.id, name, ['pending', 'queued'], 'canceled', {
        ...details,
        reason,
        finished_at: new Date().toISOString(),
      });
    }
  }

  /** Ends a build whose commit its path filters exclude: every unfinished job and the build become skipped. */
  async skipBuild(buildId: string, reason: string): Promise<void> {
    const record = await this.store.get(buildId);
    if (!record) return;
    for (const [name, state] of record.jobs) {
      if (isFinal(state.status)) continue;
      const { status: _, ...details } = state;
      await this.store.moveJob(record.meta.id, name, ['pending', 'queued', 'running'], 'skipped', {
        ...details,
        reason,
        finished_at: new Date().toISOString(),
      });
    }
    const fresh = await this.store.get(record.meta.id);
    if (fresh) await this.complete(fresh, 'skipped', reason);
  }

  /** Ends the build once; only the process whose compare-and-set wins sends `build.completed`. */
  async complete(record: BuildRecord, status: BuildStatus, reason: string | null): Promise<boolean> {
    const { from, fields } = endOf(record, status, reason, new Date().toISOString());
    const { ok, record: after } = await this.store.moveBuild(record.meta.id, from, status, fields);
    if (ok && after) await this.announceEnd(after);
    return ok;
  }

  /** What follows a build's end, once, by the process that ended it: its `build.completed`, its group. */
  private async announceEnd(after: BuildRecord): Promise<void> {
    const { id, pipeline } = after.meta;
    this.log.info({ build_id: id, pipeline, status: after.status }, 'build completed');
    await this.emitter.emit('build.completed', after);
    await this.store.markNotified(id, after);
    await leaveGroup(this.groupParts(), after, (next) => this.startRoots(next));
  }

  /** Finishes whatever a crashed process left half done for one build (see repairBuild). */
  async repair(buildId: string): Promise<RepairFinding[]> {
    const { store, redis, jobs, emitter } = this;
    return repairBuild({ store, redis, jobs, emitter, lifecycle: this }, buildId);
  }

  private groupParts(): GroupParts {
    return { store: this.store, redis: this.redis };
  }
}

/**
 * The build's end when `job`, ending as `ended`, is the last of its jobs to end: every other job is
 * final in `started` (final statuses never change, and the script checks them again). Undefined when
 * some other job is not final: `advance` then decides, from the record the result returns.
 */
function lastJobEnd(
  started: BuildRecord,
  job: string,
  ended: JobState & { status: JobStatus },
): BuildEnd | undefined {
  const others: Record<string, JobStatus> = {};
  for (const [name, s] of started.jobs) {
    if (name === job) continue;
    if (!isFinal(s.status)) return undefined;
    others[name] = s.status;
  }
  const after: BuildRecord = { ...started, jobs: new Map(started.jobs).set(job, ended) };
  const status = buildStatus(after);
  const { from, fields } = endOf(
    started,
    status,
    buildReason(after, status),
    ended.finished_at ?? new Date().toISOString(),
  );
  return { status, from, ...fields, others };
}

/**
 * What ending `record` as `status` at `now` sets, whichever path ends it (`complete`, or its last job's
 * result): the statuses it may end from, its reason, its end, and its start when it never started.
 */
function endOf(record: BuildRecord, status: BuildStatus, reason: string | null, now: string) {
  // A build waiting for approval can only be cancelled; the others end from queued or running.
  const from = (['pending-approval', 'queued', 'running'] as const).filter((f) => canMoveBuild(f, status));
  return {
    from,
    fields: { reason, finished_at: now, ...(record.started_at ? {} : { started_at: now }) },
  };
}
