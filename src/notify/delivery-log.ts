import type { Redis } from 'ioredis';
import type { Keys } from '../queue/keys.ts';
import { newestAfter, type TimeCursor } from '../queue/newest-after.ts';
import { withScripts, type ScriptRedis } from '../queue/scripts.ts';
import type { DeliveryJob } from './emit.ts';
import type { EndpointStats } from './endpoint-schema.ts';

export interface Attempt {
  attempt: number;
  at: string;
  status: number | null;
  duration_ms: number;
  error: string | null;
  /** First 4 KiB of the receiver's answer. */
  body: string | null;
}

/**
 * `held`: kept for a paused endpoint, delivered on resume; `dropped`: not sent (paused with
 * `on_pause: drop`, or held longer than the retention).
 */
export type DeliveryState = 'retrying' | 'delivered' | 'failed' | 'held' | 'dropped';

/** Deliveries kept in each endpoint's index (the newest; older ones stay reachable through their build). */
const PER_ENDPOINT = 10_000;
/** The dashboard's "recent" list: the latest 10,000 are plenty, and it stays bounded. */
const RECENT = 10_000;
const HOUR_MS = 3_600_000;
/** How long the record of a message that belongs to no build (a test event, endpoint.disabled) is kept. */
const BUILDLESS_TTL_MS = 30 * 86_400_000;
/** Two days cover any 24 hours; a third for clocks near midnight. */
const HOURLY_TTL_MS = 3 * 86_400_000;
/** How long a pipeline or global endpoint found not disabled is taken to stay so (ms). */
const ENABLED_RECHECK_MS = 1000;
/** Attempts written in one script call at most (a turn's share beyond it goes in the next call). */
const BATCH_MAX = 500;

interface Pending {
  keys: string[];
  arg: string;
  done: { resolve(): void; reject(err: unknown): void };
}

/** `YYYYMMDD` of a UTC time. */
function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}

export interface HourBucket {
  /** Start of the hour, ISO. */
  hour: string;
  ok: number;
  failed: number;
  /** Mean duration of the hour's attempts, ms (null without attempts). */
  mean_ms: number | null;
}

/** The attempt log of outbound deliveries, per build and per endpoint, and which endpoints are disabled (410 Gone). */
export class DeliveryLog {
  private readonly redis: Redis;
  private readonly scripts: ScriptRedis;
  private readonly k: Keys;
  private pending: Pending[] = [];
  /** Endpoints found not disabled, and when (ms): see isDisabled. */
  private readonly enabledAt = new Map<string, number>();

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.scripts = withScripts(redis);
    this.k = keys;
  }

  /**
   * Records one attempt (or, with `attempt.status` and `attempt.error` both null and state held or
   * dropped, a decision not to send yet): the delivery's hash (its state and latest attempt), the
   * attempt appended to its list, the counters, and the recent, endpoint and build indexes. Resolves once
   * it is stored. The attempts recorded within one turn of the event loop go to Redis together, in one
   * atomic script (record-deliveries.lua): at hundreds of messages a second, one round trip per turn
   * instead of one per attempt.
   */
  record(d: DeliveryJob, attempt: Attempt, state: DeliveryState): Promise<void> {
    const at = Date.parse(attempt.at);
    const sent = attempt.status !== null || (state !== 'held' && state !== 'dropped');
    const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
    const keys = [
      this.k.delivery(d.msgId),
      this.k.deliveryAttempts(d.msgId),
      this.k.endpointDeliveries(d.endpointId),
      this.k.endpointHourly(d.endpointId, dayOf(at)),
      this.k.endpointStats(d.endpointId),
      d.buildId ? this.k.buildDeliveries(d.buildId) : '',
    ];
    const arg = JSON.stringify({
      fields: [
        ...['id', d.msgId, 'type', d.type, 'build_id', d.buildId, 'pipeline', d.pipeline],
        ...(d.buildNumber === undefined ? [] : ['build_number', String(d.buildNumber)]),
        ...['endpoint_id', d.endpointId, 'kind', d.kind, 'target', d.target, 'state', state],
        ...['attempts', String(attempt.attempt), 'last_at', attempt.at],
      ],
      attempt: JSON.stringify(attempt),
      at: String(at),
      id: d.msgId,
      state,
      sent: sent ? 1 : 0,
      ok: ok ? 1 : 0,
      hour: String(Math.floor((at % 86_400_000) / HOUR_MS)),
      ms: String(attempt.duration_ms),
      iso: attempt.at,
    });
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ keys, arg, done: { resolve, reject } });
    });
  }

  private flush(): void {
    const batch = this.pending.splice(0, BATCH_MAX);
    if (this.pending.length > 0) setImmediate(() => this.flush());
    const keys = [this.k.stats('deliveries'), this.k.recentDeliveries, ...batch.flatMap((p) => p.keys)];
    const args = [String(PER_ENDPOINT), String(RECENT), String(BUILDLESS_TTL_MS), String(HOURLY_TTL_MS)];
    this.scripts.pushciRecordDeliveries(keys.length, ...keys, ...args, ...batch.map((p) => p.arg)).then(
      () => batch.forEach((p) => p.done.resolve()),
      (err: unknown) => batch.forEach((p) => p.done.reject(err)),
    );
  }

  async attempts(msgId: string): Promise<Attempt[]> {
    return (await this.redis.lrange(this.k.deliveryAttempts(msgId), 0, -1)).map(
      (s) => JSON.parse(s) as Attempt,
    );
  }

  async get(msgId: string): Promise<Record<string, string> | null> {
    const h = await this.redis.hgetall(this.k.delivery(msgId));
    return h.id ? h : null;
  }

  async forBuild(buildId: string): Promise<string[]> {
    return this.redis.zrange(this.k.buildDeliveries(buildId), '0', '-1');
  }

  /** The latest deliveries of any build, newest first. */
  async recent(count: number): Promise<string[]> {
    return this.redis.zrevrange(this.k.recentDeliveries, '0', String(count - 1));
  }

  /** Deliveries to one endpoint, newest first (by their latest attempt's time), after a cursor. */
  async newest(
    endpointId: string,
    after: TimeCursor | null,
    count: number,
  ): Promise<Array<{ id: string; cursor: TimeCursor }>> {
    const page = await newestAfter(this.scripts, this.k.endpointDeliveries(endpointId), after, count);
    return page.map((e) => ({ id: e.member, cursor: { score: e.score, member: e.member } }));
  }

  /** Deliveries to one endpoint whose latest attempt was at `since` (ms) or later, newest first. */
  async since(
    endpointId: string,
    opts: { since: number; offset: number; count: number },
  ): Promise<Array<{ id: string; at: number }>> {
    const flat = await this.redis.zrevrangebyscore(
      this.k.endpointDeliveries(endpointId),
      '+inf',
      String(opts.since),
      'WITHSCORES',
      'LIMIT',
      opts.offset,
      opts.count,
    );
    const out: Array<{ id: string; at: number }> = [];
    for (let i = 0; i < flat.length; i += 2) out.push({ id: flat[i]!, at: Number(flat[i + 1]) });
    return out;
  }

  /** The last `hours` hours of attempts to one endpoint, oldest first. */
  async hourly(endpointId: string, hours = 24, now = Date.now()): Promise<HourBucket[]> {
    const start = Math.floor(now / HOUR_MS) * HOUR_MS - (hours - 1) * HOUR_MS;
    const days = [...new Set(Array.from({ length: hours }, (_, i) => dayOf(start + i * HOUR_MS)))];
    const p = this.redis.pipeline();
    for (const d of days) p.hgetall(this.k.endpointHourly(endpointId, d));
    const byDay = new Map<string, Record<string, string>>();
    ((await p.exec()) ?? []).forEach(([, h], i) => byDay.set(days[i]!, (h ?? {}) as Record<string, string>));
    return Array.from({ length: hours }, (_, i) => {
      const t = start + i * HOUR_MS;
      const h = byDay.get(dayOf(t)) ?? {};
      const hour = Math.floor((t % 86_400_000) / HOUR_MS);
      const ok = Number(h[`${hour}:ok`] ?? 0);
      const failed = Number(h[`${hour}:fail`] ?? 0);
      const ms = Number(h[`${hour}:ms`] ?? 0);
      return {
        hour: new Date(t).toISOString(),
        ok,
        failed,
        mean_ms: ok + failed > 0 ? Math.round(ms / (ok + failed)) : null,
      };
    });
  }

  /** Counters and the last 24 hours of one endpoint (any kind). */
  async stats(endpointId: string, failingSince: number | null, now = Date.now()): Promise<EndpointStats> {
    const [h, hours] = await Promise.all([
      this.redis.hgetall(this.k.endpointStats(endpointId)),
      this.hourly(endpointId, 24, now),
    ]);
    const ok = hours.reduce((n, b) => n + b.ok, 0);
    const all = hours.reduce((n, b) => n + b.ok + b.failed, 0);
    return {
      attempts_24h: all,
      success_rate_24h: all === 0 ? null : Math.round((ok / all) * 1000) / 1000,
      delivered: Number(h.delivered ?? 0),
      failed: Number(h.failed ?? 0),
      last_success_at: h.last_success_at ?? null,
      last_failure_at: h.last_failure_at ?? null,
      failing_since: failingSince === null ? null : new Date(failingSince).toISOString(),
      circuit_open_until:
        h.circuit_open_until && Date.parse(h.circuit_open_until) > now ? h.circuit_open_until : null,
    };
  }

  async disable(endpointId: string, reason: string): Promise<void> {
    this.enabledAt.delete(endpointId);
    await this.redis.hset(this.k.endpointsDisabled, endpointId, reason);
  }

  async enable(endpointId: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.endpointsDisabled, endpointId)) === 1;
  }

  /**
   * Whether a pipeline or global endpoint is disabled (it answered 410 Gone). An answer of "not
   * disabled" is reused for up to a second (one Redis read per message was a quarter of a delivery's
   * round trips), so another worker process's 410 reaches this one within a second; this process's own
   * is seen at once, and so is an `enable` (a disabled endpoint is always looked up afresh).
   */
  async isDisabled(endpointId: string, now = Date.now()): Promise<boolean> {
    const at = this.enabledAt.get(endpointId);
    if (at !== undefined && now - at < ENABLED_RECHECK_MS) return false;
    const disabled = (await this.redis.hexists(this.k.endpointsDisabled, endpointId)) === 1;
    if (disabled) this.enabledAt.delete(endpointId);
    else {
      if (this.enabledAt.size >= 10_000) this.enabledAt.clear();
      this.enabledAt.set(endpointId, now);
    }
    return disabled;
  }

  /**
   * Records that an endpoint's circuit is open until `until` (ms), or closed (null): its stats say so
   * (`circuit_open_until`) while the time is in the future.
   */
  async setCircuit(endpointId: string, until: number | null): Promise<void> {
    const key = this.k.endpointStats(endpointId);
    if (until === null) await this.redis.hdel(key, 'circuit_open_until');
    else await this.redis.hset(key, 'circuit_open_until', new Date(until).toISOString());
  }

  /** Why each disabled pipeline or global endpoint is disabled, by endpoint id. */
  async disabledReasons(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.k.endpointsDisabled);
  }
}
