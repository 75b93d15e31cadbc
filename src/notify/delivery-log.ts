import type { Redis } from 'ioredis';
import type { Keys } from '../queue/keys.ts';
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
const HOUR_MS = 3_600_000;
/** How long the record of a message that belongs to no build (a test event, endpoint.disabled) is kept. */
const BUILDLESS_TTL_MS = 30 * 86_400_000;

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
  private readonly k: Keys;

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.k = keys;
  }

  /**
   * Records one attempt (or, with `attempt.status` and `attempt.error` both null and state held or
   * dropped, a decision not to send yet).
   */
  async record(d: DeliveryJob, attempt: Attempt, state: DeliveryState): Promise<void> {
    const key = this.k.delivery(d.msgId);
    const at = Date.parse(attempt.at);
    const sent = attempt.status !== null || (state !== 'held' && state !== 'dropped');
    const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
    const hourly = this.k.endpointHourly(d.endpointId, dayOf(at));
    const hour = String(Math.floor((at % 86_400_000) / HOUR_MS));
    const stats = this.k.endpointStats(d.endpointId);
    const m = this.redis
      .multi()
      .hset(key, {
        id: d.msgId,
        type: d.type,
        build_id: d.buildId,
        pipeline: d.pipeline,
        endpoint_id: d.endpointId,
        kind: d.kind,
        target: d.target,
        state,
        attempts: String(attempt.attempt),
        last_at: attempt.at,
      })
      .rpush(this.k.deliveryAttempts(d.msgId), JSON.stringify(attempt))
      .hincrby(this.k.stats('deliveries'), state, 1)
      .zadd(this.k.recentDeliveries, at, d.msgId)
      // The dashboard's "recent" list: the latest 10,000 are plenty, and keep it bounded.
      .zremrangebyrank(this.k.recentDeliveries, 0, -10_001)
      .zadd(this.k.endpointDeliveries(d.endpointId), at, d.msgId)
      .zremrangebyrank(this.k.endpointDeliveries(d.endpointId), 0, -(PER_ENDPOINT + 1));
    if (d.buildId) m.zadd(this.k.buildDeliveries(d.buildId), at, d.msgId);
    // Retention removes a build's deliveries with the build; test and operator messages have no build.
    else m.pexpire(key, BUILDLESS_TTL_MS).pexpire(this.k.deliveryAttempts(d.msgId), BUILDLESS_TTL_MS);
    if (sent) {
      m.hincrby(this.k.stats('deliveries'), 'attempts', 1)
        .hincrby(hourly, `${hour}:${ok ? 'ok' : 'fail'}`, 1)
        .hincrby(hourly, `${hour}:ms`, attempt.duration_ms)
        // Two days cover any 24 hours; a third for clocks near midnight.
        .pexpire(hourly, 3 * 86_400_000)
        .hset(stats, ok ? 'last_success_at' : 'last_failure_at', attempt.at);
    }
    if (state === 'delivered' || state === 'failed' || state === 'dropped') m.hincrby(stats, state, 1);
    await m.exec();
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

  /** Deliveries to one endpoint, newest first, with their latest attempt's time; `before` pages back (ms). */
  async forEndpoint(
    endpointId: string,
    opts: { before?: number; since?: number; offset?: number; count: number },
  ): Promise<Array<{ id: string; at: number }>> {
    const max = opts.before === undefined ? '+inf' : `(${opts.before}`;
    const min = opts.since === undefined ? '-inf' : String(opts.since);
    const flat = await this.redis.zrevrangebyscore(
      this.k.endpointDeliveries(endpointId),
      max,
      min,
      'WITHSCORES',
      'LIMIT',
      opts.offset ?? 0,
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
    };
  }

  async disable(endpointId: string, reason: string): Promise<void> {
    await this.redis.hset(this.k.endpointsDisabled, endpointId, reason);
  }

  async enable(endpointId: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.endpointsDisabled, endpointId)) === 1;
  }

  async isDisabled(endpointId: string): Promise<boolean> {
    return (await this.redis.hexists(this.k.endpointsDisabled, endpointId)) === 1;
  }

  /** Why each disabled pipeline or global endpoint is disabled, by endpoint id. */
  async disabledReasons(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.k.endpointsDisabled);
  }
}
