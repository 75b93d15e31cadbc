import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
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
const JOB_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;

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

  private async owned(buildId: string, job: string, name: string): Promise<void> {
    ArtifactStore.check(buildId, name);
    if (!JOB_NAME.test(job)) throw new InvalidRequestError(`bad job name ${job}`);
    const existing = await this.o.redis.hget(this.index(buildId), name);
    const owner = existing ? (JSON.parse(existing) as ArtifactInfo).job : null;
    if (owner && owner !== job)
      throw new ConflictError(`artifact "${name}" of this build was uploaded by job "${owner}"`);
  }

  private part(buildId: string, job: string, name: string): string {
    return join(this.folder(buildId), `.${name}.${job}.part`);
  }

  /**
   * Writes bytes of the artifact `name` that `job` is uploading, at `start`. Uploads come in chunks, each
   * one request, so no single request has to outlast the server's request timeout.
   */
  async writeChunk(
    buildId: string,
    job: string,
    name: string,
    body: Readable,
    start: number,
  ): Promise<number> {
    await this.owned(buildId, job, name);
    await mkdir(this.folder(buildId), { recursive: true, mode: 0o700 });
    const part = this.part(buildId, job, name);
    // A first chunk starts the upload afresh (a retried attempt's leftovers go).
    if (start === 0) await unlink(part).catch(() => {});
    await open(part, 'a', 0o600).then((f) => f.close());
    return receiveFile(body, part, this.o.maxBytes, `artifact "${name}"`, start, true);
  }

  /** Makes the uploaded chunks the artifact (replacing the job's earlier one of that name). */
  async commit(buildId: string, job: string, name: string, expectedSize?: number): Promise<ArtifactInfo> {
    await this.owned(buildId, job, name);
    const part = this.part(buildId, job, name);
    const size = (await stat(part).catch(() => null))?.size;
    if (size === undefined) throw new InvalidRequestError(`nothing was uploaded for artifact "${name}"`);
    if (expectedSize !== undefined && size !== expectedSize)
      throw new InvalidRequestError(`the upload holds ${size} bytes, not ${expectedSize}`);
    const now = this.now();
    const info: ArtifactInfo = {
      name,
      job,
      size,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.o.retentionMs).toISOString(),
    };
    await rename(part, join(this.folder(buildId), `${name}.tar.gz`));
    await this.o.redis
      .multi()
      .hset(this.index(buildId), name, JSON.stringify(info))
      .zadd(this.expiry, 'GT', now + this.o.retentionMs, buildId)
      .exec();
    return info;
  }

  /** Stores the body as the artifact `name` of the build, uploaded by `job` (one chunk). */
  async put(buildId: string, job: string, name: string, body: Readable): Promise<ArtifactInfo> {
    try {
      await this.writeChunk(buildId, job, name, body, 0);
    } catch (err) {
      if (BUILD_ID.test(buildId) && ARTIFACT_NAME.test(name) && JOB_NAME.test(job))
        await unlink(this.part(buildId, job, name)).catch(() => {});
      throw err;
    }
    return this.commit(buildId, job, name);
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
