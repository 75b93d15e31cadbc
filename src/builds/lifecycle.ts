import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { canMoveBuild, canMoveJob, isFinal, type BuildStatus, type JobStatus } from '../core/states.ts';
import type { Emitter } from '../notify/emit.ts';
import { failedJobReason } from '../queue/failed-job-reason.ts';
import { queueJobId, queueJobOptions } from '../queue/queued-job.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { BuildRecord, JobState } from '../queue/build-record.ts';
import type { BuildStore } from '../queue/store.ts';

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

/** A cancellation request every worker process hears (Redis pub/sub), whichever holds the job. */
export interface CancelMessage {
  buildId: string;
  reason: string;
  /** Only these jobs of the build (a matrix's fail-fast); absent: all of them. */
  jobs?: string[];
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
    // Without `concurrency:` only pull requests have a group, and a newer head cancels the older build.
    const cancelInProgress = record.def.concurrency?.cancelInProgress ?? true;
    const members = await this.redis.pushciGroupAdd(
      this.store.keys.group(record.group),
      String(Date.parse(record.meta.created_at)),
      record.meta.id,
    );
    let wait: string | null = null;
    for (const id of members) {
      if (id >= record.meta.id) continue; // ids sort by creation: only older builds are superseded
      const older = await this.store.get(id);
      if (!older || isFinal(older.status)) continue;
      const running = [...older.jobs.values()].some((j) => j.status === 'running' || isFinal(j.status));
      if (running && !cancelInProgress) {
        wait = id;
        continue;
      }
      await this.cancel(id, `superseded by build ${record.meta.id}`, record.meta.id);
    }
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
      if (res.ok)
        await this.jobs.add(
          def.name,
          { buildId: record.meta.id, job: def.name },
          queueJobOptions(record.meta.id, def.name),
        );
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
    if (before.cancelReason) {
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
    const { ok, record } = await this.store.moveJob(buildId, job, ['queued', 'running'], 'running', next);
    if (!ok || !record) return null;
    if (record.cancelReason) {
      // Cancelled between our first look and the compare-and-set: the broadcast may have missed us.
      await this.jobFinished(buildId, job, {
        status: 'canceled',
        exitCode: null,
        reason: record.cancelReason,
      });
      return null;
    }
    if (record.status === 'queued') {
      const started = await this.store.moveBuild(buildId, ['queued'], 'running', {
        started_at: next.started_at!,
        reason: null,
      });
      if (started.ok && started.record) await this.emitter.emit('build.started', started.record);
    }
    return { record, attempt: next.attempt };
  }

  /** Records a job's result, then starts or skips what depended on it and completes the build when done. */
  async jobFinished(buildId: string, job: string, result: JobResult): Promise<void> {
    const current = await this.store.get(buildId);
    const state = current?.jobs.get(job);
    if (!current || !state) return;
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
    const { ok, record } = await this.store.moveJob(buildId, job, from, result.status, done);
    if (!ok || !record) return;
    if (done.started_at)
      await this.store.recordJobDuration(
        (Date.parse(done.finished_at!) - Date.parse(done.started_at)) / 1000,
      );
    await this.emitter.emit('job.completed', record, job);
    await this.advance(record);
  }

  /** Moves pending jobs whose needs are settled to queued or skipped; completes the build when nothing is left. */
  async advance(start: BuildRecord): Promise<void> {
    let record = start;
    for (let changed = true; changed;) {
      changed = false;
      for (const def of record.def.jobs) {
        if (record.jobs.get(def.name)!.status !== 'pending') continue;
        if (def.needs.length === 0) continue; // roots are started by admit/startRoots
        const needs = def.needs.map((n) => ({
          def: record.def.jobs.find((j) => j.name === n)!,
          state: record.jobs.get(n)!,
        }));
        if (!needs.every((n) => isFinal(n.state.status))) continue;
        const allPassed = needs.every((n) => passed(n.state.status, n.def.continueOnError));
        const anyFailed = needs.some(
          (n) => n.state.status !== 'skipped' && !passed(n.state.status, n.def.continueOnError),
        );
        const run =
          !record.cancelReason && (def.if === 'always' || (def.if === 'success' ? allPassed : anyFailed));
        const { status: _, ...state } = record.jobs.get(def.name)!;
        const res = run
          ? await this.store.moveJob(record.meta.id, def.name, ['pending'], 'queued')
          : await this.store.moveJob(
              record.meta.id,
              def.name,
              ['pending'],
              record.cancelReason ? 'canceled' : 'skipped',
              {
                ...state,
                reason:
                  record.cancelReason ??
                  (def.if === 'failure' ? 'no job it needs failed' : 'a job it needs did not succeed'),
              },
            );
        if (res.record) record = res.record;
        if (res.ok && run)
          await this.jobs.add(
            def.name,
            { buildId: record.meta.id, job: def.name },
            queueJobOptions(record.meta.id, def.name),
          );
        changed ||= res.ok;
      }
    }
    if ([...record.jobs.values()].every((j) => isFinal(j.status)))
      await this.complete(record, buildStatus(record), record.cancelReason);
  }

  /**
   * Cancels a build: jobs not yet running end as canceled at once; running ones are told through the
   * broadcast, wherever they run, and end as canceled when their processes are gone. Returns false when
   * the build had already finished.
   */
  async cancel(buildId: string, reason: string, supersededBy?: string): Promise<boolean> {
    const record = await this.store.get(buildId);
    if (!record || isFinal(record.status)) return false;
    // The first cancel wins: its reason and superseder stand, later ones change nothing.
    if (!(await this.store.requestCancel(buildId, reason, supersededBy))) return true;
    for (const [name, state] of record.jobs) {
      if (state.status !== 'pending' && state.status !== 'queued') continue;
      const { status: _, ...details } = state;
      await this.store.moveJob(buildId, name, ['pending', 'queued'], 'canceled', {
        ...details,
        reason,
        finished_at: new Date().toISOString(),
      });
    }
    const message: CancelMessage = { buildId, reason };
    await this.redis.publish(this.store.keys.cancelChannel, JSON.stringify(message));
    const after = await this.store.get(buildId);
    if (after) await this.advance(after);
    this.log.info({ build_id: buildId, reason }, 'build cancel requested');
    return true;
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
    const now = new Date().toISOString();
    // A build waiting for approval can only be cancelled; the others end from queued or running.
    const from = (['pending-approval', 'queued', 'running'] as const).filter((f) => canMoveBuild(f, status));
    const { ok, record: after } = await this.store.moveBuild(record.meta.id, from, status, {
      reason,
      finished_at: now,
      ...(record.started_at ? {} : { started_at: now }),
    });
    if (ok && after) {
      this.log.info({ build_id: after.meta.id, pipeline: after.meta.pipeline, status }, 'build completed');
      await this.emitter.emit('build.completed', after);
      await this.store.markNotified(after.meta.id);
      await this.store.recordOutcome(after);
      await this.release(after);
    }
    return ok;
  }

  /**
   * Finishes whatever a crashed process left half done for one build, idempotently: sends a missing
   * build.completed, re-queues jobs whose queue entry is gone, moves jobs whose needs are settled, starts
   * a group member nobody started, and completes a build whose jobs are all done.
   */
  async repair(buildId: string): Promise<RepairFinding[]> {
    const record = await this.store.get(buildId);
    if (!record) {
      await this.store.markNotified(buildId);
      return [];
    }
    if (isFinal(record.status)) {
      if (record.notified) return [];
      // complete() won the compare-and-set but died before announcing: the message id makes this idempotent.
      await this.emitter.emit('build.completed', record);
      await this.store.markNotified(buildId);
      await this.release(record);
      return [{ kind: 'sent_build_completed' }];
    }
    // Waiting for a person: nothing to repair until someone approves or cancels it.
    if (record.status === 'pending-approval') return [];
    const done: RepairFinding[] = [];
    for (const def of record.def.jobs) {
      const state = record.jobs.get(def.name)!;
      if (state.status !== 'queued' && state.status !== 'running') continue;
      const entry = await this.jobs.getJob(queueJobId(buildId, def.name));
      if (entry && (await entry.isFailed())) {
        // BullMQ failed it (it stalled too often, or the worker threw) and the process that should have
        // recorded that died first: without this the job would stay queued or running for ever.
        const reason = failedJobReason(entry);
        await this.jobFinished(buildId, def.name, { status: 'error', exitCode: null, reason });
        done.push({ kind: 'ended_failed_job', job: def.name, reason });
        continue;
      }
      if (entry) continue;
      await this.jobs.add(def.name, { buildId, job: def.name }, queueJobOptions(buildId, def.name));
      done.push({ kind: 'requeued_job', job: def.name });
    }
    // Not started yet (nothing queued or running, no job began; a re-run of failed jobs starts with kept
    // jobs finished): it may be waiting for its concurrency group.
    const notStarted =
      record.group !== null &&
      record.started_at === null &&
      record.def.jobs.every((j) => !['queued', 'running'].includes(record.jobs.get(j.name)!.status));
    if (notStarted) {
      const members = await this.redis.zrange(this.store.keys.group(record.group!), '0', '-1');
      const olderActive = [];
      for (const id of members)
        if (id < buildId && !isFinal((await this.store.get(id))?.status ?? 'success')) olderActive.push(id);
      if (olderActive.length > 0) return done; // still waiting: nothing starts
      await this.startRoots(record);
      done.push({ kind: 'started_waiting_build' });
    }
    await this.advance((await this.store.get(buildId)) ?? record);
    return done;
  }

  /** Leaves the concurrency group and starts the build that waited for this one. */
  private async release(record: BuildRecord): Promise<void> {
    if (record.group === null) return;
    const members = await this.redis.pushciGroupRemove(this.store.keys.group(record.group), record.meta.id);
    for (const id of members) {
      const next = await this.store.get(id);
      if (!next || isFinal(next.status)) continue;
      await this.startRoots(next);
      break;
    }
  }
}

/** A job's outcome as its dependents see it: continue-on-error turns a failure into a pass; skipped is no pass. */
function passed(status: JobStatus, continueOnError: boolean): boolean {
  return status === 'success' || (continueOnError && status === 'failure');
}

/** The build's result from its jobs: error beats failure beats cancellation beats success. */
export function buildStatus(record: BuildRecord): BuildStatus {
  const jobs = record.def.jobs.map((d) => ({ d, s: record.jobs.get(d.name)!.status }));
  if (jobs.some(({ s }) => s === 'error')) return 'error';
  if (jobs.some(({ d, s }) => s === 'failure' && !d.continueOnError)) return 'failure';
  if (jobs.some(({ s }) => s === 'canceled')) return 'canceled';
  return 'success';
}
