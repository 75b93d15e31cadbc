import type { Redis } from 'ioredis';
import type { DeliveryJob } from './emit.ts';

export interface Attempt {
  attempt: number;
  at: string;
  status: number | null;
  duration_ms: number;
  error: string | null;
  /** First 4 KiB of the receiver's answer. */
  body: string | null;
}

export type DeliveryState = 'retrying' | 'delivered' | 'failed';

/** The attempt log of outbound deliveries, and which endpoints are disabled (410 Gone). */
export class DeliveryLog {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(msgId: string) {
    return `${this.prefix}:delivery:${msgId}`;
  }

  async record(d: DeliveryJob, attempt: Attempt, state: DeliveryState): Promise<void> {
    const key = this.key(d.msgId);
    await this.redis
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
      .rpush(`${key}:attempts`, JSON.stringify(attempt))
      .hincrby(`${this.prefix}:stats:deliveries`, 'attempts', 1)
      .hincrby(`${this.prefix}:stats:deliveries`, state, 1)
      .zadd(`${this.prefix}:deliveries:recent`, Date.parse(attempt.at), d.msgId)
      // The dashboard's "recent" list: the latest 10,000 are plenty, and keep it bounded.
      .zremrangebyrank(`${this.prefix}:deliveries:recent`, 0, -10_001)
      .zadd(`${this.prefix}:deliveries:${d.buildId}`, Date.parse(attempt.at), d.msgId)
      .exec();
  }

  async attempts(msgId: string): Promise<Attempt[]> {
    return (await this.redis.lrange(`${this.key(msgId)}:attempts`, 0, -1)).map(
      (s) => JSON.parse(s) as Attempt,
    );
  }

  async get(msgId: string): Promise<Record<string, string> | null> {
    const h = await this.redis.hgetall(this.key(msgId));
    return h.id ? h : null;
  }

  async forBuild(buildId: string): Promise<string[]> {
    return this.redis.zrange(`${this.prefix}:deliveries:${buildId}`, '0', '-1');
  }

  /** The latest deliveries of any build, newest first. */
  async recent(count: number): Promise<string[]> {
    return this.redis.zrevrange(`${this.prefix}:deliveries:recent`, '0', String(count - 1));
  }

  async disable(endpointId: string, reason: string): Promise<void> {
    await this.redis.hset(`${this.prefix}:endpoints:disabled`, endpointId, reason);
  }

  async enable(endpointId: string): Promise<boolean> {
    return (await this.redis.hdel(`${this.prefix}:endpoints:disabled`, endpointId)) === 1;
  }

  async isDisabled(endpointId: string): Promise<boolean> {
    return (await this.redis.hexists(`${this.prefix}:endpoints:disabled`, endpointId)) === 1;
  }
}
