import type { Redis } from 'ioredis';
import type { Pipeline } from '../pipelines/pipeline.ts';
import type { BuildStatus, BuildView, ForgeName, JobStatus, JobView } from '../model.ts';
import type { Keys } from './keys.ts';
import { PipelineSnapshots } from './pipeline-snapshots.ts';

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
  trigger: 'push' | 'manual' | 'rerun';
  created_at: string;
}

export interface JobState {
  attempt: number;
  exit_code: number | null;
  reason: string | null;
  started_at: string | null;
  finished_at: string | null;
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
}

export interface NewBuild {
  meta: BuildMeta;
  def: Pipeline;
  status: BuildStatus;
  reason: string | null;
  /** Initial status of each job. */
  jobStatus: Record<string, JobStatus>;
  group: string | null;
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

// Compare-and-set of one field, then the whole hash: one round trip per state transition, atomic across
// every process that shares the Redis.
const CAS = `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local ok = 0
if cur and string.find(ARGV[2], ',' .. cur .. ',', 1, true) then
  ok = 1
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, ok)
return all
`;

// Every build of a delivery in one atomic step: numbering, records and indexes, and, when a delivery
// id is given, its de-duplication record. If that record already exists nothing is written and the
// script returns it: a second receipt of the delivery (here, or at another instance at the same
// moment) never creates a build. A build refers to its pipeline snapshot by ref; the snapshot's text is
// sent only when this process has not stored it yet, and if it is gone (retention dropped it) nothing
// is written and the script asks for it (2). One round trip per webhook.
//   KEYS: index, active, seen, snapshot index, then per build: its hash, its pipeline's counter, its
//         pipeline's index, its snapshot
//   ARGV: use-seen (0/1), seen value, seen ttl ms, then per build: id, score, snapshot ref, snapshot
//         text or '', field count, fields...
const CREATE = `
if ARGV[1] == '1' then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {0, seen} end
end
local p = 4
local k = 5
while p <= #ARGV do
  if ARGV[p + 3] == '' and redis.call('EXISTS', KEYS[k + 3]) == 0 then return {2} end
  p = p + 5 + tonumber(ARGV[p + 4])
  k = k + 4
end
local out = {1}
p = 4
k = 5
while p <= #ARGV do
  local id, score, ref, text, nf = ARGV[p], ARGV[p + 1], ARGV[p + 2], ARGV[p + 3], tonumber(ARGV[p + 4])
  if text ~= '' then redis.call('SET', KEYS[k + 3], text) end
  local used = redis.call('ZSCORE', KEYS[4], ref)
  if not used or tonumber(used) < tonumber(score) then redis.call('ZADD', KEYS[4], score, ref) end
  local n = redis.call('INCR', KEYS[k + 1])
  redis.call('HSET', KEYS[k], 'number', n, unpack(ARGV, p + 5, p + 4 + nf))
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('ZADD', KEYS[2], score, id)
  redis.call('ZADD', KEYS[k + 2], score, id)
  table.insert(out, n)
  p = p + 5 + nf
  k = k + 4
end
if ARGV[1] == '1' then redis.call('SET', KEYS[3], ARGV[2], 'PX', ARGV[3]) end
return out
`;

/** De-duplicate the creation on a delivery: the key, the record to remember, and for how long. */
export interface SeenRecordWrite {
  key: string;
  value: string;
  ttlMs: number;
}

export type CreateResult = { created: true; numbers: number[] } | { created: false; seen: string };

type ScriptRedis = Redis & {
  pushciCas(key: string, field: string, from: string, ...set: string[]): Promise<Array<string | number>>;
  pushciCreate(numKeys: number, ...keysAndArgs: string[]): Promise<Array<number | string>>;
};

/** Build records in Redis hashes: one hash per build, job states as fields, transitions by compare-and-set. */
export class BuildStore {
  private readonly redis: ScriptRedis;
  readonly keys: Keys;
  private readonly snapshots: PipelineSnapshots;

  constructor(redis: Redis, keys: Keys) {
    this.keys = keys;
    this.snapshots = new PipelineSnapshots(redis, keys);
    if (!('pushciCas' in redis)) {
      redis.defineCommand('pushciCas', { numberOfKeys: 1, lua: CAS });
      redis.defineCommand('pushciCreate', { lua: CREATE });
    }
    this.redis = redis as ScriptRedis;
  }

  /**
   * Stores builds, and with `seen` the delivery's de-duplication record, in one atomic round trip.
   * Returns their numbers, or the existing record when the delivery was seen before (nothing written).
   */
  async create(builds: readonly NewBuild[], seen?: SeenRecordWrite): Promise<CreateResult> {
    if (builds.length === 0) return { created: true, numbers: [] };
    const snapshots = builds.map((b) => this.snapshots.of(b.def));
    const attempt = async (sendAll: boolean) => {
      const keys = [
        this.keys.index,
        this.keys.active,
        seen?.key ?? `${this.keys.prefix}:seen:-`,
        this.keys.snapshots,
      ];
      const args = [seen ? '1' : '0', seen?.value ?? '', String(seen?.ttlMs ?? 0)];
      for (const [i, b] of builds.entries()) {
        const snap = snapshots[i]!;
        // Only what differs from a fresh record: a job's details (`j:<name>`) and the reason are written
        // when they first change, and read as empty until then.
        const fields = ['meta', JSON.stringify(b.meta), 'defref', snap.ref, 'status', b.status];
        if (b.reason !== null) fields.push('reason', b.reason);
        for (const j of b.def.jobs) fields.push(`s:${j.name}`, b.jobStatus[j.name] ?? 'pending');
        if (b.status !== 'queued') fields.push('finished_at', b.meta.created_at);
        if (b.group !== null) fields.push('group', b.group);
        keys.push(
          this.keys.build(b.meta.id),
          this.keys.sequence(b.meta.pipeline),
          this.keys.pipelineIndex(b.meta.pipeline),
          this.keys.pipelineSnapshot(snap.ref),
        );
        const text = sendAll || !this.snapshots.isStored(snap.ref) ? snap.json : '';
        args.push(
          b.meta.id,
          String(Date.parse(b.meta.created_at)),
          snap.ref,
          text,
          String(fields.length),
          ...fields,
        );
      }
      return this.redis.pushciCreate(keys.length, ...keys, ...args);
    };
    let [flag, ...rest] = await attempt(false);
    if (Number(flag) === 2) {
      for (const snap of snapshots) this.snapshots.markStored(snap.ref, false);
      [flag, ...rest] = await attempt(true);
    }
    if (Number(flag) === 0) return { created: false, seen: String(rest[0]) };
    for (const snap of snapshots) this.snapshots.markStored(snap.ref, true);
    return { created: true, numbers: rest.map(Number) };
  }

  /**
   * Builds newest first, from the pipeline's index or the global one, filtered, after `cursor` (the
   * `<score>:<id>` of the previous page's last build). Scans at most `scanLimit` entries per page, so a
   * rare filter cannot make one request read everything; `next` then lets the caller go on.
   */
  async list(
    filter: { pipeline?: string; repository?: string; branch?: string; status?: string },
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
          (!filter.status || r.status === filter.status)
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
    await this.redis
      .multi()
      .hincrby(this.keys.stats('builds'), r.status, 1)
      .hset(this.keys.badges, `${r.meta.pipeline}\n${ref}`, r.status, `${r.meta.pipeline}\n*`, r.status)
      .exec();
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

  /** Sets `field` only if it is not set yet (HSETNX); the winner also sets `extra`. Returns whether it won. */
  async claim(
    id: string,
    field: string,
    value: string,
    extra: Record<string, string> = {},
  ): Promise<boolean> {
    const won = (await this.redis.hsetnx(this.keys.build(id), field, value)) === 1;
    if (won && Object.keys(extra).length > 0) await this.redis.hset(this.keys.build(id), extra);
    return won;
  }

  /** Sets fields unconditionally (flags such as cancel_reason). */
  async set(id: string, fields: Record<string, string>): Promise<void> {
    await this.redis.hset(this.keys.build(id), fields);
  }

  async get(id: string): Promise<BuildRecord | null> {
    return this.parse(await this.redis.hgetall(this.keys.build(id)));
  }

  /**
   * Sets `set` only if `field` currently holds one of `from`. Returns whether it did, and the record as
   * it is afterwards (null if the build does not exist).
   */
  async cas(
    id: string,
    field: string,
    from: readonly string[],
    set: Record<string, string>,
  ): Promise<{ ok: boolean; record: BuildRecord | null }> {
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
    const state = hash[`j:${j.name}`] ? (JSON.parse(hash[`j:${j.name}`]!) as JobState) : EMPTY_JOB;
    jobs.set(j.name, { ...state, status: (hash[`s:${j.name}`] ?? 'pending') as JobStatus });
  }
  return {
    meta: JSON.parse(hash.meta!) as BuildMeta,
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
  };
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
      status: s.status,
      needs: j.needs,
      attempt: s.attempt,
      exit_code: s.exit_code,
      reason: s.reason,
      started_at: s.started_at,
      finished_at: s.finished_at,
      duration_ms: durationMs(s.started_at, s.finished_at),
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
    trigger: m.trigger,
    url: `${publicUrl}/api/builds/${m.id}`,
    created_at: m.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
    duration_ms: durationMs(r.started_at, r.finished_at),
    jobs,
  };
}
