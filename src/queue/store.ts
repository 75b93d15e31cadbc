import type { KeysMap } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { EventKind, PullRequestInfo } from '../core/event.ts';
import { canMoveBuild, canMoveJob, type BuildStatus, type JobStatus } from '../core/states.ts';
import { InvalidTransitionError } from '../errors.ts';
import type { Annotation, BuildView, ForgeName, JobView } from '../model.ts';
import type { Keys } from './keys.ts';
import { PipelineSnapshots } from './pipeline-snapshots.ts';
import { addJobKeys, JOB_OPTIONS_TEMPLATE, queueJobArgs } from './queued-job.ts';
import { withScripts, type ScriptRedis } from './scripts.ts';

/** What never changes after a build is created. */
export interface BuildMeta {
  id: string;
  pipeline: string;
  forge: ForgeName;
  repository: string;
  ref: string;
  branch: string | null;
  tag: string | null;
  sha: string;
  before: string;
  message: string | null;
  pusher: string | null;
  delivery_id: string;
  /** What started the build. */
  event: EventKind;
  /** For a re-run: the build it re-runs, and the event that started the first of the chain. */
  rerun_of: string | null;
  original_event: Exclude<EventKind, 'rerun'>;
  /** The pull request it builds (also for a re-run of one): trust decisions read `fork` from here. */
  pull_request: PullRequestInfo | null;
  /** The cron expression of a scheduled build. */
  cron: string | null;
  /** Inputs of a manual build (and its re-runs), validated against the pipeline's `workflow_dispatch`. */
  inputs: Record<string, string>;
  created_at: string;
}

export interface JobState {
  attempt: number;
  exit_code: number | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  /** The backend that ran the last attempt (absent before it started, and in older records). */
  runner?: 'sandbox' | 'host';
  /** The job's evaluated `outputs:` (absent: none). */
  outputs?: Record<string, string>;
  /** Annotations its steps made (absent: none). */
  annotations?: Annotation[];
  /** Its steps' $GITHUB_STEP_SUMMARY, Markdown (absent: none). */
  summary?: string;
}

export interface BuildRecord {
  meta: BuildMeta;
  number: number;
  /** The pipeline as it was when the push matched; later edits of the file do not change queued builds. */
  def: Pipeline;
  status: BuildStatus;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
  jobs: Map<string, JobState & { status: JobStatus }>;
  /** Its build.completed is queued (the build left the active index). */
  notified: boolean;
  /** Set once someone asked to cancel the build; workers check it before and after starting a job. */
  cancelReason: string | null;
  supersededBy: string | null;
  /** Concurrency group, when the pipeline has one. */
  group: string | null;
  /** Who approved a fork's pull request build, and when. */
  approval: { by: string; at: string } | null;
}

export interface NewBuild {
  meta: BuildMeta;
  def: Pipeline;
  status: BuildStatus;
  reason: string | null;
  /** Initial status of each job. */
  jobStatus: Record<string, JobStatus>;
  /** Initial details of jobs that start finished (the jobs a re-run of failed jobs keeps). */
  jobState?: Record<string, JobState>;
  group: string | null;
  /** Jobs to put in the jobs queue in the same atomic step that stores the build. */
  queueNow: readonly string[];
  /**
   * The live event for dashboards, published in that same step: its JSON without the closing brace,
   * ending in `"number":` (the build's number is known only then).
   */
  announce: string | null;
}

const EMPTY_JOB: JobState = {
  attempt: 0,
  exit_code: null,
  reason: null,
  started_at: null,
  finished_at: null,
};

/** Upper bounds (seconds) of the job duration histogram. */
export const JOB_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** A build's hash holds each job's state in `s:<job>` and its details (JSON) in `j:<job>`. */
const jobStatusField = (job: string) => `s:${job}`;
const jobStateField = (job: string) => `j:${job}`;

/** The result of a move: whether it happened, and the record as it is now (null: no such build). */
export interface Moved {
  ok: boolean;
  record: BuildRecord | null;
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

/** De-duplicate the creation on a delivery: the key, the record to remember, and for how long. */
export interface SeenRecordWrite {
  key: string;
  value: string;
  ttlMs: number;
}

export type CreateResult = { created: true; numbers: number[] } | { created: false; seen: string };

interface PendingCreate {
  builds: readonly NewBuild[];
  seen: SeenRecordWrite | undefined;
  /** Send every snapshot's text (the script found one missing). */
  sendAll: boolean;
  resolve(r: CreateResult): void;
  reject(err: unknown): void;
}

/** One delivery as the create script takes it (queue/lua/create.lua; absent, never null). */
interface CreateDelivery {
  seen?: { value: string; ttl: number };
  builds: Array<{
    id: string;
    score: string;
    ref: string;
    text?: string;
    fields: string[];
    live?: string;
    jobs: Array<[name: string, jobId: string, data: string]>;
  }>;
}

/** Deliveries stored by one script call at most (more wait for the next). */
const MAX_BATCH = 64;

/** Build records in Redis hashes: one hash per build, job states as fields, transitions by compare-and-set. */
export class BuildStore {
  private readonly redis: ScriptRedis;
  readonly keys: Keys;
  private readonly snapshots: PipelineSnapshots;

  private readonly jobQueueKeys: KeysMap | null;
  private pending: PendingCreate[] = [];
  private flushing = false;

  /** `jobQueueKeys`: the jobs queue's BullMQ keys (`queue.keys`), for builds created with `queueNow`. */
  constructor(redis: Redis, keys: Keys, jobQueueKeys: KeysMap | null = null) {
    this.keys = keys;
    this.jobQueueKeys = jobQueueKeys;
    this.snapshots = new PipelineSnapshots(redis, keys);
    this.redis = withScripts(redis);
  }

  /**
   * Stores builds, queues their `queueNow` jobs and publishes their `announce` events, and with `seen`
   * records the delivery, in one atomic step. Returns their numbers, or the existing record when the
   * delivery was seen before (nothing written).
   *
   * Calls made within one turn of the event loop share one script call (group commit): under load a
   * receiver makes one round trip for many webhooks, and each still gets its own result.
   */
  create(builds: readonly NewBuild[], seen?: SeenRecordWrite): Promise<CreateResult> {
    if (builds.length === 0) return Promise.resolve({ created: true, numbers: [] });
    return new Promise((resolve, reject) => this.enqueue({ builds, seen, sendAll: false, resolve, reject }));
  }

  /** Adds a delivery to the next script call, scheduling one for the end of this event-loop turn. */
  private enqueue(p: PendingCreate): void {
    this.pending.push(p);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    const batch = this.pending.splice(0, MAX_BATCH);
    if (this.pending.length > 0) setImmediate(() => this.flush());
    else this.flushing = false;
    let keys: string[];
    let args: string[];
    try {
      [keys, args] = this.createArgs(batch);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    this.redis.pushciCreate(keys.length, ...keys, ...args).then(
      (results) => {
        for (const [i, p] of batch.entries()) {
          const [flag, ...rest] = results[i]!;
          const refs = p.builds.map((b) => this.snapshots.of(b.def).ref);
          if (Number(flag) === 2) {
            // A snapshot this process thought stored is gone: send this delivery again with the texts.
            for (const ref of refs) this.snapshots.markStored(ref, false);
            this.enqueue({ ...p, sendAll: true });
            continue;
          }
          if (Number(flag) === 0) {
            p.resolve({ created: false, seen: String(rest[0]) });
            continue;
          }
          for (const ref of refs) this.snapshots.markStored(ref, true);
          p.resolve({ created: true, numbers: rest.map(Number) });
        }
      },
      (err: unknown) => {
        for (const p of batch) p.reject(err);
      },
    );
  }

  /** The keys and arguments of one create script call (queue/lua/create.lua names them). */
  private createArgs(batch: readonly PendingCreate[]): [string[], string[]] {
    const queueKeys = this.jobQueueKeys;
    const keys = [
      this.keys.index,
      this.keys.active,
      this.keys.snapshots,
      ...(queueKeys ? addJobKeys(queueKeys) : Array<string>(9).fill(this.keys.unused)),
    ];
    const args = [this.keys.eventsChannel, queueKeys?.[''] ?? '', String(Date.now()), JOB_OPTIONS_TEMPLATE];
    for (const { builds, seen, sendAll } of batch) {
      keys.push(seen?.key ?? this.keys.unused);
      const delivery: CreateDelivery = { builds: [] };
      if (seen) delivery.seen = { value: seen.value, ttl: seen.ttlMs };
      for (const b of builds) {
        const snap = this.snapshots.of(b.def);
        // Only what differs from a fresh record: a job's details (`j:<name>`) and the reason are written
        // when they first change, and read as empty until then.
        const fields = ['meta', JSON.stringify(b.meta), 'defref', snap.ref, 'status', b.status];
        if (b.reason !== null) fields.push('reason', b.reason);
        for (const j of b.def.jobs) fields.push(jobStatusField(j.name), b.jobStatus[j.name] ?? 'pending');
        for (const [name, state] of Object.entries(b.jobState ?? {}))
          fields.push(jobStateField(name), JSON.stringify(state));
        if (b.status !== 'queued' && b.status !== 'pending-approval')
          fields.push('finished_at', b.meta.created_at);
        if (b.group !== null) fields.push('group', b.group);
        keys.push(
          this.keys.build(b.meta.id),
          this.keys.sequence(b.meta.pipeline),
          this.keys.pipelineIndex(b.meta.pipeline),
          this.keys.pipelineSnapshot(snap.ref),
        );
        if (b.queueNow.length > 0 && !queueKeys) throw new Error('this BuildStore has no jobs queue');
        const build: CreateDelivery['builds'][number] = {
          id: b.meta.id,
          score: String(Date.parse(b.meta.created_at)),
          ref: snap.ref,
          fields,
          jobs: b.queueNow.map((job) => queueJobArgs(b.meta.id, job)),
        };
        if (sendAll || !this.snapshots.isStored(snap.ref)) build.text = snap.json;
        if (b.announce !== null) build.live = b.announce;
        delivery.builds.push(build);
      }
      args.push(JSON.stringify(delivery));
    }
    return [keys, args];
  }

  /**
   * Builds newest first, from the pipeline's index or the global one, filtered, after `cursor` (the
   * `<score>:<id>` of the previous page's last build). Scans at most `scanLimit` entries per page, so a
   * rare filter cannot make one request read everything; `next` then lets the caller go on.
   */
  async list(
    filter: { pipeline?: string; repository?: string; branch?: string; status?: string; event?: string },
    cursor: string | null,
    limit: number,
    scanLimit = 5000,
  ): Promise<{ records: BuildRecord[]; next: string | null }> {
    const BATCH = 200;
    const index = filter.pipeline ? this.keys.pipelineIndex(filter.pipeline) : this.keys.index;
    let [max, after] = cursor ? (cursor.split(':') as [string, string | undefined]) : ['+inf', undefined];
    const out: BuildRecord[] = [];
    let scanned = 0;
    let exhausted = false;
    while (out.length < limit && scanned < scanLimit) {
      const flat = await this.redis.zrevrangebyscore(
        index,
        max,
        '-inf',
        'WITHSCORES',
        'LIMIT',
        '0',
        String(BATCH),
      );
      const entries: Array<[string, string]> = [];
      for (let i = 0; i < flat.length; i += 2) entries.push([flat[i]!, flat[i + 1]!]);
      // Builds of the same millisecond share a score: resume after the cursor's id among them.
      const fresh = entries.filter(([id, score]) => !(after !== undefined && score === max && id >= after));
      if (fresh.length === 0) {
        exhausted = entries.length < BATCH;
        if (exhausted) break;
        [max, after] = [`(${entries.at(-1)![1]}`, undefined];
        continue;
      }
      const records = await Promise.all(fresh.map(([id]) => this.get(id)));
      let taken = 0;
      for (const [i, r] of records.entries()) {
        taken = i + 1;
        scanned++;
        if (
          r &&
          (!filter.repository || r.meta.repository.toLowerCase() === filter.repository.toLowerCase()) &&
          (!filter.branch || r.meta.branch === filter.branch) &&
          (!filter.status || r.status === filter.status) &&
          (!filter.event || eventOf(r) === filter.event)
        ) {
          out.push(r);
          if (out.length === limit) break;
        }
      }
      [after, max] = fresh[taken - 1]!;
      exhausted = entries.length < BATCH && taken === fresh.length;
      if (exhausted) break;
    }
    return { records: out, next: exhausted ? null : `${max}:${after}` };
  }

  /** Counts a final outcome (cluster-wide, for /metrics) and remembers it for the pipeline's badges. */
  async recordOutcome(r: BuildRecord): Promise<void> {
    const ref = r.meta.branch ?? (r.meta.tag ? `tag:${r.meta.tag}` : r.meta.ref);
    const tx = this.redis.multi().hincrby(this.keys.stats('builds'), r.status, 1);
    // A badge shows the state of a branch: a pull request's build (maybe from a fork) must not paint it.
    if (r.meta.pull_request === null)
      tx.hset(this.keys.badges, `${r.meta.pipeline}\n${ref}`, r.status, `${r.meta.pipeline}\n*`, r.status);
    await tx.exec();
  }

  /** Adds a finished job's duration to the cluster-wide histogram (seconds). */
  async recordJobDuration(seconds: number): Promise<void> {
    const bucket = JOB_BUCKETS.find((b) => seconds <= b) ?? Infinity;
    await this.redis
      .multi()
      .hincrby(this.keys.stats('jobs'), `le:${bucket}`, 1)
      .hincrby(this.keys.stats('jobs'), 'count', 1)
      .hincrbyfloat(this.keys.stats('jobs'), 'sum', seconds)
      .exec();
  }

  /** Records that the build's final outcome is announced (its build.completed is queued): it leaves the active index. */
  async markNotified(id: string): Promise<void> {
    await this.redis.multi().hset(this.keys.build(id), 'notified', '1').zrem(this.keys.active, id).exec();
  }

  /** Ids of builds whose outcome is not fully announced, created before `before` (ms), oldest first. */
  async activeBefore(before: number, limit: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.keys.active, '-inf', String(before), 'LIMIT', '0', String(limit));
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
    const hash: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) hash[String(rest[i])] = String(rest[i + 1]);
    return { ok: Number(ok) === 1, record: await this.parse(hash) };
  }

  /** A record from its hash, with its pipeline snapshot (inline in records written before snapshots had refs). */
  private async parse(hash: Record<string, string>): Promise<BuildRecord | null> {
    if (!hash.meta) return null;
    const def = hash.def
      ? (JSON.parse(hash.def) as Pipeline)
      : hash.defref
        ? await this.snapshots.resolve(hash.defref)
        : null;
    return def ? parseRecord(hash, def) : null;
  }
}

function parseRecord(hash: Record<string, string>, def: Pipeline): BuildRecord {
  const jobs = new Map<string, JobState & { status: JobStatus }>();
  for (const j of def.jobs) {
    const details = hash[jobStateField(j.name)];
    const state = details ? (JSON.parse(details) as JobState) : EMPTY_JOB;
    jobs.set(j.name, { ...state, status: (hash[jobStatusField(j.name)] ?? 'pending') as JobStatus });
  }
  return {
    meta: normalizeMeta(JSON.parse(hash.meta!) as BuildMeta & LegacyMeta),
    number: Number(hash.number ?? 0),
    def,
    status: hash.status as BuildStatus,
    reason: hash.reason || null,
    started_at: hash.started_at || null,
    finished_at: hash.finished_at || null,
    jobs,
    notified: hash.notified === '1',
    cancelReason: hash.cancel_reason || null,
    supersededBy: hash.superseded_by || null,
    group: hash.group || null,
    approval: hash.approved_at ? { by: hash.approved_by ?? '', at: hash.approved_at } : null,
  };
}

/** Records written before builds had an `event` said `trigger: push|manual|rerun`. */
interface LegacyMeta {
  trigger?: 'push' | 'manual' | 'rerun';
}

function normalizeMeta(m: BuildMeta & LegacyMeta): BuildMeta {
  if (m.event) return m;
  const { trigger, ...rest } = m;
  const event: EventKind = trigger === 'push' || trigger === undefined ? (m.tag ? 'tag' : 'push') : trigger;
  const rerunOf = event === 'rerun' && m.delivery_id.startsWith('rerun:') ? m.delivery_id.slice(6) : null;
  return {
    ...rest,
    event,
    rerun_of: rerunOf,
    original_event: event === 'rerun' ? (m.tag ? 'tag' : 'push') : event,
    pull_request: null,
    cron: null,
    inputs: {},
  };
}

/** What started a build, as the builds list filters it. */
export function eventOf(r: BuildRecord): EventKind {
  return r.meta.event;
}

function durationMs(start: string | null, end: string | null): number | null {
  return start && end ? Date.parse(end) - Date.parse(start) : null;
}

/** The public shape (`GET /api/builds/:id`, outbound `data.build`). */
export function toView(r: BuildRecord, publicUrl: string): BuildView {
  const jobs: JobView[] = r.def.jobs.map((j) => {
    const s = r.jobs.get(j.name)!;
    return {
      name: j.name,
      display_name: j.title ?? j.name,
      group: j.group ?? null,
      matrix: j.matrix?.values ?? null,
      outputs: s.outputs ?? {},
      annotations: s.annotations ?? [],
      summary: s.summary ?? null,
      status: s.status,
      needs: j.needs,
      attempt: s.attempt,
      exit_code: s.exit_code,
      reason: s.reason,
      started_at: s.started_at,
      finished_at: s.finished_at,
      duration_ms: durationMs(s.started_at, s.finished_at),
      runner: s.runner ?? null,
    };
  });
  const m = r.meta;
  return {
    id: m.id,
    number: r.number,
    pipeline: m.pipeline,
    status: r.status,
    reason: r.reason,
    superseded_by: r.supersededBy,
    forge: m.forge,
    repository: m.repository,
    ref: m.ref,
    branch: m.branch,
    tag: m.tag,
    sha: m.sha,
    before: m.before,
    message: m.message,
    pusher: m.pusher,
    delivery_id: m.delivery_id,
    event: m.event,
    rerun_of: m.rerun_of,
    pull_request: m.pull_request,
    cron: m.cron,
    inputs: m.inputs,
    approval: r.approval,
    url: `${publicUrl}/api/builds/${m.id}`,
    html_url: `${publicUrl}/#/builds/${m.id}`,
    created_at: m.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: durationMs(r.started_at, r.finished_at),
    unsandboxed: jobs.some((j) => j.runner === 'host'),
    jobs,
  };
}
