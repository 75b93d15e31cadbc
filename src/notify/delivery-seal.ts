import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../queue/keys.ts';

/**
 * Proof that pushci itself queued a delivery job. A job's data is plain JSON in the deliveries queue,
 * which Bull Board's "add job" and "edit data" (with `PUSHCI_ADMIN_WRITE`) or anyone with a queue client
 * can write; the worker refuses any job whose data does not carry the seal the emitter computed, so a
 * hand-made job can neither reach a URL of its choosing nor get a message of its choosing signed with a
 * real endpoint's secret. The key is random, kept in Redis (shared by every pushci process on it, out of
 * reach of the queue UI), and made by whichever process needs it first.
 */
const KEY_RECHECK_MS = 60_000;

export class DeliverySeal {
  private readonly redis: Redis;
  private readonly keyName: string;
  // A KeyObject, not the Buffer: Node 24's createHmac tells a Buffer from a KeyObject by catching a
  // thrown error, which cost more than the HMAC of a job's data (the worker checks every job's seal).
  private key: Promise<KeyObject> | null = null;
  private loadedAt = 0;

  constructor(redis: Redis, keys: Keys) {
    this.redis = redis;
    this.keyName = keys.deliverySealKey;
  }

  // Re-read now and then: if Redis lost the key (a flush) and another process made a new one, every
  // process must move to it rather than refuse each other's jobs for ever.
  private loadKey(fresh = false): Promise<KeyObject> {
    if (fresh || Date.now() - this.loadedAt > KEY_RECHECK_MS) this.key = null;
    this.key ??= (async () => {
      this.loadedAt = Date.now();
      await this.redis.set(this.keyName, randomBytes(32).toString('base64'), 'NX');
      const text = await this.redis.get(this.keyName);
      if (!text) throw new Error('the delivery seal key vanished from Redis while it was being read');
      return createSecretKey(Buffer.from(text, 'base64'));
    })().catch((err: unknown) => {
      this.key = null;
      throw err;
    });
    return this.key;
  }

  /** The seal of a job's data (every field but `seal`, in the order the emitter wrote them). */
  async seal(data: object, fresh = false): Promise<string> {
    const { seal: _, ...rest } = data as Record<string, unknown>;
    return createHmac('sha256', await this.loadKey(fresh))
      .update(JSON.stringify(rest))
      .digest('base64url');
  }

  /** Whether `data.seal` is the seal of the rest of `data`. */
  async verify(data: unknown): Promise<boolean> {
    if (data === null || typeof data !== 'object') return false;
    const given = (data as { seal?: unknown }).seal;
    if (typeof given !== 'string') return false;
    const got = Buffer.from(given);
    const same = (want: Buffer) => got.length === want.length && timingSafeEqual(got, want);
    // A mismatch may be a key this process has not seen yet: look once more, freshly.
    return same(Buffer.from(await this.seal(data))) || same(Buffer.from(await this.seal(data, true)));
  }
}
