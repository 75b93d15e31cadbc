import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import type { JobGrant } from './job-credentials.ts';
import { receiveFile } from './receive-file.ts';
import { keys } from '../queue/keys.ts';
import { withScripts } from '../queue/scripts.ts';

/** One saved cache. */
export interface CacheEntry {
  id: string;
  key: string;
  version: string;
  size: number;
  created_at: string;
  /** The ref it was saved from. */
  ref: string;
}

export interface CacheStoreOptions {
  redis: Redis;
  prefix: string;
  /** The data dir: blobs live in `<dataDir>/caches`. */
  dataDir: string;
  /** Total bytes of all caches; past it the least recently used go. */
  maxBytes: number;
  /** Entries (saved or being saved) one repository's ref may hold; default MAX_ENTRIES_PER_REF. */
  maxEntriesPerRef?: number;
  now?: () => number;
}

/**
 * Entries one ref may hold. The byte cap alone let a job save a 1-byte entry thousands of times a minute
 * (each a Redis hash and a file) for as long as it ran; this bounds what a branch can pile up.
 */
export const MAX_ENTRIES_PER_REF = 1000;

/** An upload that never commits is dropped after this long. */
const RESERVATION_MS = 60 * 60_000;
const KEY_MAX = 512;

/**
 * Caches, stored by the server: blobs under the data dir, the index in Redis. Each entry belongs to one
 * repository and ref (its scope) and is immutable once saved; a job reads its own ref's entries and
 * its repository's default branch's (GitHub's rule: a branch never sees another feature branch's
 * caches, so an untrusted branch cannot poison them). The total size is capped; the least recently
 * used entries are evicted first.
 */
export class CacheStore {
  private readonly dir: string;
  private readonly now: () => number;
  private readonly o: CacheStoreOptions;
  constructor(o: CacheStoreOptions) {
    this.o = o;
    this.dir = join(o.dataDir, 'caches');
    this.now = o.now ?? Date.now;
  }

  private scope(repository: string, ref: string): string {
    return keys(this.o.prefix).cacheScope(repository, ref);
  }
  private entryKey(id: string): string {
    return keys(this.o.prefix).cacheEntry(id);
  }
  private get lru() {
    return keys(this.o.prefix).cacheLru;
  }
  private get bytes() {
    return keys(this.o.prefix).cacheBytes;
  }
  private get reserved() {
    return keys(this.o.prefix).cacheReserved;
  }
  private file(id: string): string {
    return join(this.dir, id);
  }

  private static check(key: string, version: string): void {
    if (key.length === 0 || key.length > KEY_MAX || key.includes(','))
      throw new InvalidRequestError(`a cache key is 1 to ${KEY_MAX} characters without ","`);
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(version))
      throw new InvalidRequestError('a cache version is 1 to 128 letters, digits, ".", "_" or "-"');
  }

  private async entry(id: string): Promise<(CacheEntry & { state: string; scope: string }) | null> {
    const h = await this.o.redis.hgetall(this.entryKey(id));
    if (!h.key) return null;
    return {
      id,
      key: h.key,
      version: h.version!,
      size: Number(h.size ?? 0),
      created_at: h.created_at!,
      ref: h.ref!,
      state: h.state!,
      scope: h.scope!,
    };
  }

  /**
   * The entry to restore: the first key matched exactly, else the newest entry whose key starts with
   * one of the later keys (restore-keys), in the job's own ref first, then in the default branch.
   */
  async lookup(grant: JobGrant, keys: string[], version: string): Promise<CacheEntry | null> {
    if (keys.length === 0 || keys.length > 10) throw new InvalidRequestError('send 1 to 10 keys');
    for (const k of keys) CacheStore.check(k, version);
    const refs = [
      grant.ref,
      ...(grant.defaultRef && grant.defaultRef !== grant.ref ? [grant.defaultRef] : []),
    ];
    for (const ref of refs) {
      const fields = await this.o.redis.hgetall(this.scope(grant.repository, ref));
      const candidates: CacheEntry[] = [];
      for (const id of Object.values(fields)) {
        const e = await this.entry(id);
        if (e && e.state === 'ready' && e.version === version) candidates.push(e);
      }
      candidates.sort((a, b) => b.created_at.localeCompare(a.created_at));
      for (const [i, k] of keys.entries()) {
        const hit = candidates.find((e) => (i === 0 ? e.key === k : e.key.startsWith(k)));
        if (hit) {
          await this.o.redis.zadd(this.lru, 'XX', this.now(), hit.id);
          return hit;
        }
      }
    }
    return null;
  }

  /** Starts saving `key` in the job's ref. ConflictError when that key exists (entries are immutable). */
  async reserve(grant: JobGrant, key: string, version: string): Promise<string> {
    CacheStore.check(key, version);
    const id = randomBytes(16).toString('hex');
    const scope = this.scope(grant.repository, grant.ref);
    const field = `${version}\n${key}`;
    const max = this.o.maxEntriesPerRef ?? MAX_ENTRIES_PER_REF;
    if ((await this.o.redis.hlen(scope)) >= max)
      throw new ConflictError(
        `${grant.ref} holds ${max} caches already, the most one ref may (unused ones go after 7 days)`,
      );
    if (!(await this.o.redis.hsetnx(scope, field, id)))
      throw new ConflictError(`cache "${key}" exists already (or is being saved) for ${grant.ref}`);
    await this.o.redis
      .multi()
      .hset(this.entryKey(id), {
        key,
        version,
        size: '0',
        created_at: new Date(this.now()).toISOString(),
        ref: grant.ref,
        state: 'reserved',
        scope,
        repository: grant.repository,
      })
      .zadd(this.reserved, this.now(), id)
      .exec();
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    return id;
  }

  private async reservedEntry(grant: JobGrant, id: string) {
    const e = /^[0-9a-f]{32}$/.test(id) ? await this.entry(id) : null;
    if (!e || e.state !== 'reserved' || e.scope !== this.scope(grant.repository, grant.ref))
      throw new NotFoundError(`no cache upload ${id} of this job`);
    return e;
  }

  /** Writes bytes of a reserved entry at `start` (uploads may come in chunks, in any order). */
  async write(grant: JobGrant, id: string, body: Readable, start = 0): Promise<number> {
    await this.reservedEntry(grant, id);
    if (start > this.o.maxBytes) throw new InvalidRequestError('chunk starts past the cache size limit');
    // Made first: a later chunk may arrive before the first one.
    await open(`${this.file(id)}.part`, 'a', 0o600).then((f) => f.close());
    return receiveFile(body, `${this.file(id)}.part`, this.o.maxBytes, 'the cache', start, true);
  }

  /** Makes a reserved entry readable, then evicts the least recently used entries over the cap. */
  async commit(grant: JobGrant, id: string, expectedSize?: number): Promise<CacheEntry> {
    const e = await this.reservedEntry(grant, id);
    const part = `${this.file(id)}.part`;
    const size = (await stat(part).catch(() => null))?.size;
    if (size === undefined) throw new InvalidRequestError('nothing was uploaded for this cache');
    if (expectedSize !== undefined && expectedSize !== size)
      throw new InvalidRequestError(`the upload holds ${size} bytes, not ${expectedSize}`);
    await rename(part, this.file(id));
    await this.o.redis
      .multi()
      .hset(this.entryKey(id), { state: 'ready', size: String(size) })
      .zrem(this.reserved, id)
      .zadd(this.lru, this.now(), id)
      .incrby(this.bytes, size)
      .exec();
    await this.evict();
    return { id, key: e.key, version: e.version, size, created_at: e.created_at, ref: e.ref };
  }

  /** Gives up an upload this job reserved (so the key is free again at once). */
  async abandon(grant: JobGrant, id: string): Promise<void> {
    await this.reservedEntry(grant, id);
    await this.drop(id);
  }

  /** The blob of an entry this job may read. */
  async open(grant: JobGrant, id: string): Promise<{ stream: Readable; size: number }> {
    const e = /^[0-9a-f]{32}$/.test(id) ? await this.entry(id) : null;
    const readable = [grant.ref, grant.defaultRef]
      .filter(Boolean)
      .map((r) => this.scope(grant.repository, r!));
    if (!e || e.state !== 'ready' || !readable.includes(e.scope))
      throw new NotFoundError(`no cache ${id} for this job`);
    const stream = createReadStream(this.file(id));
    // Opened before an eviction unlinks it, the file stays readable to the end.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new NotFoundError(`cache ${id} was just evicted`)));
    });
    return { stream, size: e.size };
  }

  /** Removes one entry (cache-drop-5.lua); true when this call freed its bytes. */
  private async drop(id: string): Promise<boolean> {
    const e = await this.entry(id);
    const field = e ? `${e.version}\n${e.key}` : '';
    const freed = Number(
      await withScripts(this.o.redis).pushciCacheDrop(
        this.lru,
        this.bytes,
        this.entryKey(id),
        e?.scope ?? this.entryKey(id),
        this.reserved,
        id,
        field,
      ),
    );
    await unlink(this.file(id)).catch(() => {});
    await unlink(`${this.file(id)}.part`).catch(() => {});
    return freed === 1;
  }

  /** Evicts least recently used entries until the total fits the cap. Returns how many went. */
  async evict(): Promise<number> {
    let n = 0;
    while (Number((await this.o.redis.get(this.bytes)) ?? 0) > this.o.maxBytes) {
      const [oldest] = await this.o.redis.zrange(this.lru, '0', '0');
      if (!oldest) break;
      if (await this.drop(oldest)) n++;
    }
    return n;
  }

  /** Housekeeping: uploads never committed, and entries unused for `unusedMs`. */
  async sweep(unusedMs: number): Promise<number> {
    const now = this.now();
    const stale = await this.o.redis.zrangebyscore(
      this.reserved,
      '-inf',
      now - RESERVATION_MS,
      'LIMIT',
      0,
      1000,
    );
    const unused = await this.o.redis.zrangebyscore(this.lru, '-inf', now - unusedMs, 'LIMIT', 0, 1000);
    for (const id of [...stale, ...unused]) await this.drop(id);
    return stale.length + unused.length;
  }

  /** Total bytes of saved caches. */
  async totalBytes(): Promise<number> {
    return Number((await this.o.redis.get(this.bytes)) ?? 0);
  }
}
