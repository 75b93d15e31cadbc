import type { KeysMap } from 'bullmq';
import type { NewBuild } from './build-record.ts';
import { jobStateField, jobStatusField } from './build-hash.ts';
import type { Keys } from './keys.ts';
import type { PipelineSnapshots } from './pipeline-snapshots.ts';
import { addJobKeys, JOB_OPTIONS_TEMPLATE, queueJobArgs } from './queued-job.ts';
import type { ScriptRedis } from './scripts.ts';

/** De-duplicate the creation on a delivery: the key, the record to remember, and for how long. */
export interface SeenRecordWrite {
  key: string;
  value: string;
  ttlMs: number;
  /**
   * The verified body's key (`Keys.seenBody`): checked and recorded with `key`, so the same signed bytes
   * under another delivery id (a replay) create nothing either.
   */
  body?: { key: string; ttlMs: number };
}

/** `replay`: the delivery id was new, its body was not (`seen` is the body's first receipt). */
export type CreateResult =
  { created: true; numbers: number[] } | { created: false; seen: string; replay: boolean };

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
  seen?: { value: string; ttl: number; bodyTtl?: number };
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

/**
 * Batched intake: new builds stored, their first jobs queued and their live events published by one
 * script call per event-loop turn (queue/lua/create.lua), however many deliveries came in that turn.
 */
export class BuildIntake {
  private readonly redis: ScriptRedis;
  private readonly keys: Keys;
  private readonly snapshots: PipelineSnapshots;
  private readonly jobQueueKeys: KeysMap | null;
  private pending: PendingCreate[] = [];
  private flushing = false;

  /** `jobQueueKeys`: the jobs queue's BullMQ keys (`queue.keys`), for builds created with `queueNow`. */
  constructor(redis: ScriptRedis, keys: Keys, snapshots: PipelineSnapshots, jobQueueKeys: KeysMap | null) {
    this.redis = redis;
    this.keys = keys;
    this.snapshots = snapshots;
    this.jobQueueKeys = jobQueueKeys;
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
            p.resolve({ created: false, seen: String(rest[0]), replay: Number(rest[1] ?? 0) === 1 });
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
      keys.push(seen?.key ?? this.keys.unused, seen?.body?.key ?? this.keys.unused);
      const delivery: CreateDelivery = { builds: [] };
      if (seen) delivery.seen = { value: seen.value, ttl: seen.ttlMs };
      if (seen?.body) delivery.seen!.bodyTtl = seen.body.ttlMs;
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
}
