import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

/** What the first receipt of a delivery created, for answering its duplicates. */
export interface SeenDelivery {
  builds: Array<{ id: string; pipeline: string; status: string }>;
  at: string;
}

export type Claim = { state: 'new' } | { state: 'duplicate'; seen: SeenDelivery } | { state: 'in-flight' };

/** How long a claim stays "in flight" when its receiver dies before storing anything. */
const PENDING_MS = 60_000;
const PENDING = 'pending';

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Exactly-once intake. The first receiver of a delivery id claims it; the claim becomes the record of
 * its builds in the same transaction that stores them, and is remembered for the window. Any other
 * receipt (a redelivery, or the same delivery at another pushci instance) finds it and creates nothing.
 */
export class Dedupe {
  private readonly redis: Redis & { pushciRelease(key: string, value: string): Promise<number> };
  private readonly prefix: string;
  private readonly windowMs: number;

  constructor(redis: Redis, prefix: string, windowMs: number) {
    if (!('pushciRelease' in redis)) redis.defineCommand('pushciRelease', { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as Redis & { pushciRelease(key: string, value: string): Promise<number> };
    this.prefix = prefix;
    this.windowMs = windowMs;
  }

  key(forge: string, deliveryId: string): string {
    return `${this.prefix}:seen:${forge}:${createHash('sha256').update(deliveryId).digest('hex').slice(0, 32)}`;
  }

  async claim(key: string): Promise<Claim> {
    if ((await this.redis.set(key, PENDING, 'PX', PENDING_MS, 'NX')) === 'OK') return { state: 'new' };
    const value = await this.redis.get(key);
    if (value === null) return this.claim(key); // expired between the two calls
    if (value === PENDING) return { state: 'in-flight' };
    return { state: 'duplicate', seen: JSON.parse(value) as SeenDelivery };
  }

  /** Waits for another receiver's claim to turn into a record (or to lapse). */
  async waitFor(key: string, ms: number): Promise<Claim> {
    const end = Date.now() + ms;
    for (;;) {
      const value = await this.redis.get(key);
      if (value === null) return this.claim(key);
      if (value !== PENDING) return { state: 'duplicate', seen: JSON.parse(value) as SeenDelivery };
      if (Date.now() > end) return { state: 'in-flight' };
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Adds "remember these builds" to the transaction that stores them. */
  record(multi: ChainableCommander, key: string, seen: SeenDelivery): void {
    multi.set(key, JSON.stringify(seen), 'PX', this.windowMs);
  }

  /** Gives a claim up (nothing was stored), so the forge's redelivery is not taken for a duplicate. */
  async release(key: string): Promise<void> {
    await this.redis.pushciRelease(key, PENDING).catch(() => 0);
  }
}
