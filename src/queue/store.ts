import type { KeysMap } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pipeline } from '../pipelines/pipeline.ts';
import { canMoveBuild, canMoveJob, type BuildStatus, type JobStatus } from '../core/states.ts';
import { InvalidTransitionError } from '../errors.ts';
import type { BuildRecord, JobState, NewBuild } from './build-record.ts';
import { jobStateField, jobStatusField, parseBuildHash } from './build-hash.ts';
import { BuildIntake, type CreateResult, type SeenRecordWrite } from './build-intake.ts';
import { addOutcome, jobDurationBucket, recordJobDuration, recordOutcome } from './build-stats.ts';
import { listBuilds, type BuildFilter } from './list-builds.ts';
import type { Keys } from './keys.ts';
import { PipelineSnapshots } from './pipeline-snapshots.ts';
import { withScripts, type ScriptRedis } from './scripts.ts';

/** The result of a move: whether it happened, and the record as it is now (null: no such build). */
export interface Moved {
  ok: boolean;
  record: BuildRecord | null;
}

/** A build's end, computed by the caller, for `moveAttempt` to set with its last job's result. */
export interface BuildEnd {
  status: BuildStatus;
  /** The statuses it may end from. */
  from: readonly BuildStatus[];
  reason: string | null;
  finished_at: string;
  /** Set only when the build has no `started_at`. */
  started_at?: string;
  /** Every other job of the build and the final status the result was computed from. */
  others: Readonly<Record<string, JobStatus>>;
}

/** What a build's move sets besides its state. */
export interface BuildMoveFields {
  started_at?: string;
  finished_at?: string;
  /** Null clears it. */
  reason?: string | null;
  /** Who let a fork's pull request build run, and when (pending-approval → queued). */
  approval?: { by: string; at: string };
}

/** Build records in Redis hashes: one hash per build, job states as fields, transitions by compare-and-set. */
export class BuildStore {
  private readonly redis: ScriptRedis;
  readonly keys: Keys;
  private readonly snapshots: PipelineSnapshots;
  private readonly intake: BuildIntake;

  /** `jobQueueKeys`: the jobs queue's BullMQ keys (`queue.keys`), for builds created with `queueNow`. */
  constructor(redis: Redis, keys: Keys, jobQueueKeys: KeysMap | null = null) {
    this.keys = keys;
    this.snapshots = new PipelineSnapshots(redis, keys);
    this.redis = withScripts(redis);
    this.intake = new BuildIntake(this.redis, keys, this.snapshots, jobQueueKeys);
  }

  /**
   * Stores builds, queues their `queueNow` jobs and publishes their `announce` events, and with `seen`
   * records the delivery, in one atomic step (batched with the other calls of this event-loop turn, see
   * `BuildIntake`). Returns their numbers, or the existing record when the delivery was seen before.
   */
  create(builds: readonly NewBuild[], seen?: SeenRecordWrite): Promise<CreateResult> {
    return this.intake.create(builds, seen);
  }

  /** Builds newest first, filtered, after `cursor` (see `listBuilds`). */
  list(
    filter: BuildFilter,
    cursor: string | null,
    limit: number,
    scanLimit?: number,
  ): Promise<{ records: BuildRecord[]; next: string | null }> {
    return listBuilds(this.redis, this.keys, (id) => this.get(id), filter, cursor, limit, scanLimit);
  }

  /** Counts a final outcome and remembers it for the pipeline's badges (see `build-stats.ts`). */
  recordOutcome(r: BuildRecord): Promise<void> {
    return recordOutcome(this.redis, this.keys, r);
  }

  /** Adds a finished job's duration to the cluster-wide histogram (seconds). */
  recordJobDuration(seconds: number): Promise<void> {
    return recordJobDuration(this.redis, this.keys, seconds);
  }

  /**
   * Records that the build's final outcome is announced (its build.completed is queued): it leaves the
   * active index. With `outcome`, the outcome is counted in the same transaction (see `recordOutcome`).
   */
  async markNotified(id: string, outcome?: BuildRecord): Promise<void> {
    const tx = this.redis.multi().hset(this.keys.build(id), 'notified', '1').zrem(this.keys.active, id);
    if (outcome) addOutcome(tx, this.keys, outcome);
    await tx.exec();
  }

  /** Ids of builds whose outcome is not fully announced, created before `before` (ms), oldest first. */
  async activeBefore(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.active, '-inf', String(before), 'LIMIT', '0', String(limit));
  }

  /** The current status and the number of each build (null for one no longer stored), in one round trip. */
  async statuses(ids: readonly string[]): Promise<Array<{ status: BuildStatus; number: number } | null>> {
    if (ids.length === 0) return [];
    const p = this.redis.pipeline();
    for (const id of ids) p.hmget(this.keys.build(id), 'status', 'number');
    return ((await p.exec()) ?? []).map(([, v]) => {
      const [status, number] = (v ?? []) as Array<string | null>;
      return typeof status === 'string' ? { status: status as BuildStatus, number: Number(number) } : null;
    });
  }

  async get(id: string): Promise<BuildRecord | null> {
    return this.parse(await this.redis.hgetall(this.keys.build(id)));
  }

  /** The ref of the snapshot a build of `def` refers to (the hash of its text). */
  snapshotRef(def: Pipeline): string {
    return this.snapshots.of(def).ref;
  }

  /** The pipeline definition a snapshot ref names, or null once retention removed it. */
  definition(ref: string): Promise<Pipeline | null> {
    return /^[0-9a-f]{32}$/.test(ref) ? this.snapshots.resolve(ref) : Promise.resolve(null);
  }

  /**
   * Moves a job from one of `from` to `to` (each move must be in the transition table), with its new
   * details when given, in one compare-and-set. Returns whether it moved, and the record as it is
   * afterwards (null if the build does not exist). The only writer of a job's state.
   */
  async moveJob(
    id: string,
    job: string,
    from: readonly JobStatus[],
    to: JobStatus,
    details?: JobState,
  ): Promise<Moved> {
    for (const f of from)
      if (!canMoveJob(f, to)) throw new InvalidTransitionError(`job ${job} of build ${id}: ${f} → ${to}`);
    return this.cas(id, jobStatusField(job), from, {
      [jobStatusField(job)]: to,
      ...(details ? { [jobStateField(job)]: JSON.stringify(details) } : {}),
    });
  }

  /**
   * The end of one attempt of a job: as `moveJob`, and only while `attempt` is still the job's current
   * attempt (a stalled attempt's late result must not land on the attempt that replaced it). With
   * `durationSeconds`, the job's duration is counted (as `recordJobDuration`) when, and only when, the
   * move happens, in the same round trip. With `build`, the job's last in its build, the build ends
   * in that same round trip too (as `moveBuild`), when the job moved, no cancel was asked for and every
   * other job still holds the status in `build.others` that its result was computed from; `buildEnded`
   * says whether it did, and `beforeEnd` is the record as it was between the two moves.
   */
  async moveAttempt(
    id: string,
    job: string,
    attempt: number,
    from: readonly JobStatus[],
    to: JobStatus,
    details: JobState,
    durationSeconds?: number,
    build?: BuildEnd,
  ): Promise<Moved & { buildEnded: boolean; beforeEnd: BuildRecord | null }> {
    for (const f of from)
      if (!canMoveJob(f, to)) throw new InvalidTransitionError(`job ${job} of build ${id}: ${f} → ${to}`);
    if (build)
      for (const f of build.from)
        if (!canMoveBuild(f, build.status))
          throw new InvalidTransitionError(`build ${id}: ${f} → ${build.status}`);
    const [ok, ended, ...rest] = await this.redis.pushciMoveAttempt(
      this.keys.build(id),
      this.keys.stats('jobs'),
      jobStatusField(job),
      `,${from.join(',')},`,
      jobStateField(job),
      String(attempt),
      durationSeconds === undefined ? '' : jobDurationBucket(durationSeconds),
      String(durationSeconds ?? 0),
      to,
      JSON.stringify(details),
      build?.status ?? '',
      build ? `,${build.from.join(',')},` : '',
      build?.reason ?? '',
      build?.finished_at ?? '',
      build?.started_at ?? '',
      ...Object.entries(build?.others ?? {}).flatMap(([name, status]) => [jobStatusField(name), status]),
    );
    const [status, reason, finishedAt, startedAt, ...flat] = rest;
    const hash = this.pairs(flat);
    const record = await this.parse(hash);
    const buildEnded = Number(ended) === 1;
    let beforeEnd: BuildRecord | null = null;
    if (buildEnded && record) {
      const text = (v: string | number | null | undefined) =>
        v === null || v === undefined ? '' : String(v);
      beforeEnd = {
        ...record,
        status: text(status) as BuildStatus,
        reason: text(reason) || null,
        finished_at: text(finishedAt) || null,
        started_at: text(startedAt) || null,
      };
    }
    return { ok: Number(ok) === 1, record, buildEnded, beforeEnd };
  }

  /**
   * A job's start: moves it from one of `from` to running with its new details and, in the same
   * round trip, its build from queued to running (`started_at`) when it is still queued and no cancel
   * was asked for. Returns whether the job moved, whether the build did, and the record afterwards.
   */
  async startJob(
    id: string,
    job: string,
    from: readonly JobStatus[],
    details: JobState,
    startedAt: string,
  ): Promise<Moved & { buildMoved: boolean }> {
    if (!canMoveBuild('queued', 'running')) throw new InvalidTransitionError(`build ${id}: queued → running`);
    for (const f of from)
      if (!canMoveJob(f, 'running'))
        throw new InvalidTransitionError(`job ${job} of build ${id}: ${f} → running`);
    const [ok, moved, ...rest] = await this.redis.pushciStartJob(
      this.keys.build(id),
      jobStatusField(job),
      `,${from.join(',')},`,
      'running',
      jobStateField(job),
      JSON.stringify(details),
      'queued',
      'running',
      startedAt,
    );
    return {
      ok: Number(ok) === 1,
      buildMoved: Number(moved) === 1,
      record: await this.parse(this.pairs(rest)),
    };
  }

  /**
   * Moves a build from one of `from` to `to` (each move must be in the transition table) with the
   * times and reason that go with it, in one compare-and-set. The only writer of a build's state.
   */
  async moveBuild(
    id: string,
    from: readonly BuildStatus[],
    to: BuildStatus,
    fields: BuildMoveFields,
  ): Promise<Moved> {
    for (const f of from)
      if (!canMoveBuild(f, to)) throw new InvalidTransitionError(`build ${id}: ${f} → ${to}`);
    const set: Record<string, string> = { status: to };
    if (fields.started_at !== undefined) set.started_at = fields.started_at;
    if (fields.finished_at !== undefined) set.finished_at = fields.finished_at;
    if (fields.reason !== undefined) set.reason = fields.reason ?? '';
    if (fields.approval) {
      set.approved_by = fields.approval.by;
      set.approved_at = fields.approval.at;
    }
    return this.cas(id, 'status', from, set);
  }

  /**
   * Records that someone asked to cancel the build. The first request wins (its reason and superseder
   * stand); returns whether this one did.
   */
  async requestCancel(id: string, reason: string, supersededBy?: string): Promise<boolean> {
    const won = (await this.redis.hsetnx(this.keys.build(id), 'cancel_reason', reason)) === 1;
    if (won && supersededBy) await this.redis.hset(this.keys.build(id), 'superseded_by', supersededBy);
    return won;
  }

  /** Says why a queued job has not started (no live worker has its runs-on labels); its status stays. */
  async setJobWaitingReason(id: string, job: string, details: JobState): Promise<Moved> {
    return this.cas(id, jobStatusField(job), ['queued'], { [jobStateField(job)]: JSON.stringify(details) });
  }

  /** Says why a queued build has not started (it waits for its concurrency group). */
  async setWaitingReason(id: string, reason: string): Promise<void> {
    await this.redis.hset(this.keys.build(id), 'reason', reason);
  }

  /** Sets `set` only if `field` currently holds one of `from` (queue/lua/cas-1.lua). */
  private async cas(
    id: string,
    field: string,
    from: readonly string[],
    set: Record<string, string>,
  ): Promise<Moved> {
    const flat = Object.entries(set).flat();
    const [ok, ...rest] = await this.redis.pushciCas(
      this.keys.build(id),
      field,
      `,${from.join(',')},`,
      ...flat,
    );
    return { ok: Number(ok) === 1, record: await this.parse(this.pairs(rest)) };
  }

  /** A hash from the flat field, value list a script returns. */
  private pairs(flat: ReadonlyArray<string | number | null>): Record<string, string> {
    const hash: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) hash[String(flat[i])] = String(flat[i + 1]);
    return hash;
  }

  /** A record from its hash, with its pipeline snapshot (inline in records written before snapshots had refs). */
  private async parse(hash: Record<string, string>): Promise<BuildRecord | null> {
    if (!hash.meta) return null;
    const def = hash.def
      ? (JSON.parse(hash.def) as Pipeline)
      : hash.defref
        ? await this.snapshots.resolve(hash.defref)
        : null;
    return def ? parseBuildHash(hash, def) : null;
  }
}
