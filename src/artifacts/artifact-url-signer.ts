import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ForbiddenError } from '../errors.ts';
import { keys } from '../queue/keys.ts';

/** What a signed artifact URL lets its holder do, and to what. */
export interface ArtifactUrlScope {
  /** `upload` (stage blocks, commit the block list) or `download` (GET the blob). */
  purpose: 'upload' | 'download';
  buildId: string;
  /** The job the URL was handed to: only that job's credential may use it. */
  job: string;
  /** The job that uploads (or uploaded) the artifact. */
  owner: string;
  name: string;
}

/**
 * Signs and checks the blob URLs of the artifact protocol: an HMAC-SHA256, with a random server key kept
 * in Redis (so every server process and a restart agree), over the purpose, build, job, owner, name and
 * expiry. A URL is useless past its expiry, for another artifact, and to any other job.
 */
export class ArtifactUrlSigner {
  /** A KeyObject: Node 24's createHmac tells a Buffer key from one by catching a thrown error. */
  private key: KeyObject | null = null;
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly now: () => number;
  constructor(redis: Redis, prefix: string, now: () => number = Date.now) {
    this.redis = redis;
    this.prefix = prefix;
    this.now = now;
  }

  private async secret(): Promise<KeyObject> {
    if (this.key) return this.key;
    const k = keys(this.prefix).artifactUrlKey;
    await this.redis.set(k, randomBytes(32).toString('base64'), 'NX');
    this.key = createSecretKey(Buffer.from((await this.redis.get(k))!, 'base64'));
    return this.key;
  }

  private async mac(s: ArtifactUrlScope, expires: number): Promise<string> {
    const text = [s.purpose, s.buildId, s.job, s.owner, s.name, String(expires)].join('\n');
    return createHmac('sha256', await this.secret())
      .update(text)
      .digest('hex');
  }

  /** The URL's query: `expires` (ms since the epoch) and `sig`. */
  async sign(scope: ArtifactUrlScope, ttlMs: number): Promise<string> {
    const expires = this.now() + ttlMs;
    return `expires=${expires}&sig=${await this.mac(scope, expires)}`;
  }

  /** Throws ForbiddenError (never saying which part was wrong) unless the query signs this scope and is unexpired. */
  async verify(scope: ArtifactUrlScope, expires: string, sig: string): Promise<void> {
    const when = /^\d{1,16}$/.test(expires) ? Number(expires) : NaN;
    const want = Buffer.from(Number.isFinite(when) ? await this.mac(scope, when) : '', 'hex');
    const got = /^[0-9a-f]{64}$/.test(sig) ? Buffer.from(sig, 'hex') : Buffer.alloc(0);
    const good = want.length === 32 && got.length === 32 && timingSafeEqual(want, got);
    if (!good) throw new ForbiddenError('not a valid artifact URL (a wrong or altered signature)');
    if (when <= this.now()) throw new ForbiddenError('this artifact URL has expired: ask for a new one');
  }
}
