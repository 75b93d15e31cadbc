import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BuildStore } from '../queue/store.ts';
import { keys } from '../queue/keys.ts';

/** What a job's credential lets it touch: its build's artifacts and its repository's caches. */
export interface JobGrant {
  buildId: string;
  job: string;
  attempt: number;
  /** The repository the caches belong to (`forge:owner/name`). */
  repository: string;
  /** The ref the job builds (`refs/heads/x`, `refs/tags/v1`): caches it saves are scoped to it. */
  ref: string;
  /** The repository's default branch ref, whose caches every ref may read (GitHub's rule), or null. */
  defaultRef: string | null;
}

/** A job's credential, stored on first use (see `JobCredentials.lazy`). */
export interface LazyCredential {
  readonly token: string;
  /** Stores it, once: later calls share the first call's promise. */
  ready(): Promise<void>;
  /** The store under way or done, or null while nothing asked for it (nothing to revoke). */
  stored: Promise<void> | null;
}

/** Credentials look like this, so a leaked one is recognisable (and a secret scanner can match it). */
const PREFIX = 'pcj_';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Per-job credentials for the cache and artifact service. A worker makes one when a job starts, stores
 * it on its first use and revokes it when the job ends; only a hash is stored, with an expiry past the
 * job's timeout in case the worker dies. A credential is honoured only while its job's attempt is the
 * one running, so one that outlives its job by any path (a killed worker, a leaked log) opens nothing.
 */
export class JobCredentials {
  private readonly redis: Redis;
  private readonly prefix: string;
  constructor(redis: Redis, prefix: string) {
    this.redis = redis;
    this.prefix = prefix;
  }

  private key(token: string): string {
    return keys(this.prefix).jobCredential(hashOf(token));
  }

  /** A credential stored at once (see `lazy`), valid for `ttlMs` (at least a minute). */
  async mint(grant: JobGrant, ttlMs: number): Promise<string> {
    const credential = this.lazy(async () => grant, Date.now() + ttlMs);
    await credential.ready();
    return credential.token;
  }

  /**
   * A credential whose token is known at once and stored only when `ready` is first called (by the
   * job gateway's or the file client's first use): a job that never reaches the service writes
   * nothing to Redis for it, and removes nothing at its end. It expires at `expiresAt` (ms) all the
   * same, at least a minute after it is stored.
   */
  lazy(grant: () => Promise<JobGrant>, expiresAt: number): LazyCredential {
    const token = PREFIX + randomBytes(32).toString('base64url');
    const cred: LazyCredential = {
      token,
      stored: null,
      ready: () =>
        (cred.stored ??= (async () => {
          const g = await grant();
          const ttl = Math.max(60_000, Math.round(expiresAt - Date.now()));
          await this.redis.set(this.key(token), JSON.stringify(g), 'PX', ttl);
        })()),
    };
    return cred;
  }

  async revoke(token: string): Promise<void> {
    await this.redis.del(this.key(token));
  }

  /** The grant of a live credential of a running job, or null. */
  async resolve(token: string, store: BuildStore): Promise<JobGrant | null> {
    if (!token.startsWith(PREFIX) || token.length > 100) return null;
    const text = await this.redis.get(this.key(token));
    if (!text) return null;
    const grant = JSON.parse(text) as JobGrant;
    const record = await store.get(grant.buildId);
    const state = record?.jobs.get(grant.job);
    if (!state || state.status !== 'running' || state.attempt !== grant.attempt) return null;
    return grant;
  }
}
