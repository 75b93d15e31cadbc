import type { Queue } from 'bullmq';
import type { Logger } from '../log.ts';
import { isFinal, type BuildStatus, type JobStatus } from '../model.ts';
import type { Emitter } from '../notify/emit.ts';
import type { BuildRecord, BuildStore, JobState } from '../queue/store.ts';

/** What a BullMQ job of the jobs queue carries. */
export interface JobRef {
  buildId: string;
  job: string;
}

/** BullMQ job id of one job of one build (`.` cannot appear in either part). */
export const queueJobId = (buildId: string, job: string) => `${buildId}.${job}`;

export function queueJobOptions(buildId: string, job: string) {
  return {
    jobId: queueJobId(buildId, job),
    // A failed step is a result, not a reason to retry; only a crashed worker gets the job again.
    attempts: 1,
    removeOnComplete: true,
    removeOnFail: { age: 7 * 86400 },
  };
}

export interface JobResult {
  status: Extract<JobStatus, 'success' | 'failure' | 'canceled' | 'error' | 'skipped'>;
  exitCode: number | null;
  reason: string | null;
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

  constructor(store: BuildStore, jobs: Queue, emitter: Emitter, log: Logger) {
    this.store = store;
    this.jobs = jobs;
    this.emitter = emitter;
    this.log = log;
  }

  /**
   * Marks a job running (a new attempt when a crashed worker had it). Returns null when the job must not
   * run: it already finished or the build was cancelled.
   */
  async jobStarted(buildId: string, job: string): Promise<{ record: BuildRecord; attempt: number } | null> {
    const before = await this.store.get(buildId);
    const state = before?.jobs.get(job);
    if (!before || !state || isFinal(state.status) || isFinal(before.status)) return null;
    const next: JobState = {
      attempt: state.attempt + 1,
      exit_code: null,
      reason:
        state.attempt > 0
          ? `attempt ${state.attempt + 1}: the worker running attempt ${state.attempt} stopped`
          : null,
      started_at: new Date().toISOString(),
      finished_at: null,
    };
    const { ok, record } = await this.store.cas(buildId, `s:${job}`, ['queued', 'running'], {
      [`s:${job}`]: 'running',
      [`j:${job}`]: JSON.stringify(next),
    });
    if (!ok || !record) return null;
    if (record.status === 'queued') {
      const started = await this.store.cas(buildId, 'status', ['queued'], {
        status: 'running',
        started_at: next.started_at!,
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
    };
    const { ok, record } = await this.store.cas(buildId, `s:${job}`, ['running', 'queued'], {
      [`s:${job}`]: result.status,
      [`j:${job}`]: JSON.stringify(done),
    });
    if (!ok || !record) return;
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
        const needs = def.needs.map((n) => ({
          def: record.def.jobs.find((j) => j.name === n)!,
          state: record.jobs.get(n)!,
        }));
        if (!needs.every((n) => isFinal(n.state.status))) continue;
        const allPassed = needs.every((n) => passed(n.state.status, n.def.continueOnError));
        const anyFailed = needs.some(
          (n) => n.state.status !== 'skipped' && !passed(n.state.status, n.def.continueOnError),
        );
        const run = def.if === 'always' || (def.if === 'success' ? allPassed : anyFailed);
        const set: Record<string, string> = { [`s:${def.name}`]: run ? 'queued' : 'skipped' };
        if (!run) {
          set[`j:${def.name}`] = JSON.stringify({
            ...record.jobs.get(def.name)!,
            reason: def.if === 'failure' ? 'no job it needs failed' : 'a job it needs did not succeed',
          });
        }
        const res = await this.store.cas(record.meta.id, `s:${def.name}`, ['pending'], set);
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
      await this.complete(record, buildStatus(record), null);
  }

  /** Ends a build whose commit its path filters exclude: every unfinished job and the build become skipped. */
  async skipBuild(buildId: string, reason: string): Promise<void> {
    const record = await this.store.get(buildId);
    if (!record) return;
    for (const [name, state] of record.jobs) {
      if (isFinal(state.status)) continue;
      await this.store.cas(record.meta.id, `s:${name}`, ['pending', 'queued', 'running'], {
        [`s:${name}`]: 'skipped',
        [`j:${name}`]: JSON.stringify({ ...state, reason, finished_at: new Date().toISOString() }),
      });
    }
    const fresh = await this.store.get(record.meta.id);
    if (fresh) await this.complete(fresh, 'skipped', reason);
  }

  /** Ends the build once; only the process whose compare-and-set wins sends `build.completed`. */
  async complete(record: BuildRecord, status: BuildStatus, reason: string | null): Promise<boolean> {
    const { ok, record: after } = await this.store.cas(record.meta.id, 'status', ['queued', 'running'], {
      status,
      reason: reason ?? record.reason ?? '',
      finished_at: new Date().toISOString(),
      ...(record.started_at ? {} : { started_at: new Date().toISOString() }),
    });
    if (ok && after) {
      this.log.info({ build_id: after.meta.id, pipeline: after.meta.pipeline, status }, 'build completed');
      await this.emitter.emit('build.completed', after);
    }
    return ok;
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
