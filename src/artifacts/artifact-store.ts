import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { receiveFile } from './receive-file.ts';
import { keys } from '../queue/keys.ts';

/** One artifact of a build, as the API lists it. */
export interface ArtifactInfo {
  name: string;
  /** The job that uploaded it. */
  job: string;
  size: number;
  created_at: string;
  expires_at: string;
}

export interface ArtifactStoreOptions {
  redis: Redis;
  prefix: string;
  /** Blobs live in `<dataDir>/artifacts/<build id>/`. */
  dataDir: string;
  /** How long an artifact is kept. */
  retentionMs: number;
  /** Largest artifact accepted. */
  maxBytes: number;
  now?: () => number;
}

export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const BUILD_ID = /^[0-9a-z]{1,64}$/;

/**
 * Artifacts (a `.tar.gz` each) of builds, stored by the server under the data dir and indexed in Redis;
 * kept for the retention period, then removed with their folder. Names are unique within a build: a
 * job's later attempt replaces its own artifact, another job's name is refused.
 */
export class ArtifactStore {
  private readonly now: () => number;
  private readonly o: ArtifactStoreOptions;
  constructor(o: ArtifactStoreOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  private index(buildId: string) {
    return keys(this.o.prefix).artifacts(buildId);
  }
  private get expiry() {
    return keys(this.o.prefix).artifactsExpiry;
  }
  private folder(buildId: string) {
    return join(this.o.dataDir, 'artifacts', buildId);
  }

  private static check(buildId: string, name: string): void {
    if (!BUILD_ID.test(buildId)) throw new NotFoundError(`no build ${buildId}`);
    if (!ARTIFACT_NAME.test(name))
      throw new InvalidRequestError('artifact names are letters, digits, ".", "_" and "-" (at most 100)');
  }

  async list(buildId: string): Promise<ArtifactInfo[]> {
    if (!BUILD_ID.test(buildId)) return [];
    const all = await this.o.redis.hvals(this.index(buildId));
    const now = this.now();
    return all
      .map((t) => JSON.parse(t) as ArtifactInfo)
      .filter((a) => Date.parse(a.expires_at) > now)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async info(buildId: string, name: string): Promise<ArtifactInfo> {
    ArtifactStore.check(buildId, name);
    const text = await this.o.redis.hget(this.index(buildId), name);
    const a = text ? (JSON.parse(text) as ArtifactInfo) : null;
    if (!a || Date.parse(a.expires_at) <= this.now())
      throw new NotFoundError(`build ${buildId} has no artifact "${name}"${a ? ' any more (expired)' : ''}`);
    return a;
  }

  /** Stores the body as the artifact `name` of the build, uploaded by `job`. */
  async put(buildId: string, job: string, name: string, body: Readable): Promise<ArtifactInfo> {
    ArtifactStore.check(buildId, name);
    const existing = await this.o.redis.hget(this.index(buildId), name);
    const owner = existing ? (JSON.parse(existing) as ArtifactInfo).job : null;
    if (owner && owner !== job)
      throw new ConflictError(`artifact "${name}" of this build was uploaded by job "${owner}"`);
    const dir = this.folder(buildId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const part = join(dir, `.${name}.${randomBytes(6).toString('hex')}.part`);
    const size = await receiveFile(body, part, this.o.maxBytes, `artifact "${name}"`);
    const now = this.now();
    const info: ArtifactInfo = {
      name,
      job,
      size,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.o.retentionMs).toISOString(),
    };
    try {
      await rename(part, join(dir, `${name}.tar.gz`));
    } catch (err) {
      await unlink(part).catch(() => {});
      throw err;
    }
    await this.o.redis
      .multi()
      .hset(this.index(buildId), name, JSON.stringify(info))
      .zadd(this.expiry, 'GT', now + this.o.retentionMs, buildId)
      .exec();
    return info;
  }

  /** The artifact's bytes (a gzipped tar). */
  async open(buildId: string, name: string): Promise<{ info: ArtifactInfo; stream: Readable }> {
    const info = await this.info(buildId, name);
    const stream = createReadStream(join(this.folder(buildId), `${name}.tar.gz`));
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new NotFoundError(`artifact "${name}" of build ${buildId} is gone`)));
    });
    return { info, stream };
  }

  /** Removes every artifact of a build. */
  async remove(buildId: string): Promise<void> {
    if (!BUILD_ID.test(buildId)) return;
    await rm(this.folder(buildId), { recursive: true, force: true });
    await this.o.redis.multi().del(this.index(buildId)).zrem(this.expiry, buildId).exec();
  }

  /** Housekeeping: removes the artifacts of builds whose newest artifact has expired. Returns how many builds. */
  async sweep(): Promise<number> {
    const ids = await this.o.redis.zrangebyscore(this.expiry, '-inf', this.now(), 'LIMIT', 0, 1000);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }
}
