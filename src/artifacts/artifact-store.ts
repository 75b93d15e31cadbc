import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Redis } from 'ioredis';
import { ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.ts';
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
  /** A number unique to this artifact (the artifact protocol's `database_id`). */
  id?: number;
  /**
   * What the bytes are: absent for the native `artifacts:` key's `.tar.gz`; `zip` (or a single `file`,
   * named `file_name`) for an upload through the artifact protocol (`@actions/artifact`).
   */
  format?: 'zip' | 'file';
  file_name?: string;
  /** `sha256:<hex>` of the bytes, when the uploader sent it (and it matched). */
  digest?: string;
}

/** An upload through the artifact protocol, begun and not yet finalized. */
export interface ArtifactUpload {
  job: string;
  format: 'zip' | 'file';
  file_name?: string;
  /** The uploader's own, shorter retention (never longer than the server's). */
  expires_at?: string;
}

/** The content type and download file name of an artifact. */
export function artifactFileOf(a: ArtifactInfo): { type: string; file: string } {
  if (a.format === 'zip') return { type: 'application/zip', file: `${a.name}.zip` };
  if (a.format === 'file') return { type: 'application/octet-stream', file: a.file_name ?? a.name };
  return { type: 'application/gzip', file: `${a.name}.tar.gz` };
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
  /** Total bytes of all builds' artifacts; past it the oldest go first (0 or absent: no total cap). */
  totalBytes?: number;
  now?: () => number;
}

export const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/**
 * Any name upload-artifact accepts (it refuses `" : < > | * ? \ /` and line breaks), at most 100
 * characters, not starting with "." or a space. Names outside ARTIFACT_NAME never become paths: their files
 * are named after a hash of the name.
 */
export const ANY_ARTIFACT_NAME = /^[^"\\/:<>|*?\x00-\x1f\x7f. ][^"\\/:<>|*?\x00-\x1f\x7f]{0,99}$/u;

/** The name an artifact's files use: the name itself when it is plain, else `~` and a hash of it. */
export function artifactDiskName(name: string): string {
  return ARTIFACT_NAME.test(name) ? name : `~${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}
const BUILD_ID = /^[0-9a-z]{1,64}$/;
const JOB_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
/** Block ids are the client's (base64 in Azure's protocol): never a path, only hashed into one. */
const BLOCK_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;
/** Azure's own limit of blocks in one blob. */
const MAX_BLOCKS = 50_000;
/** Artifact-protocol uploads one job may have begun and not finalized at once. */
export const MAX_OPEN_UPLOADS = 10;

/** Indexes an artifact, replacing one of that name (whose bytes leave the total). */
//   KEYS: index, by-age, bytes, expiry; ARGV: name, info JSON, size, age member, created ms, kept ms, build id
const PUBLISH = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old then redis.call('DECRBY', KEYS[3], cjson.decode(old).size) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('ZADD', KEYS[4], 'GT', ARGV[6], ARGV[7])
`;

/** Removes one artifact from the index; only the caller that removes it frees its bytes (no double count). */
//   KEYS: index, by-age, bytes; ARGV: name, age member
const DROP = `
redis.call('ZREM', KEYS[2], ARGV[2])
local old = redis.call('HGET', KEYS[1], ARGV[1])
if not old then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DECRBY', KEYS[3], cjson.decode(old).size)
return 1
`;

/**
 * Artifacts (a `.tar.gz` each) of builds, stored by the server under the data dir and indexed in Redis;
 * kept for the retention period, then removed with their folder. Names are unique within a build: a
 * job's later attempt replaces its own artifact, another job's name is refused.
 */
export class ArtifactStore {
  private readonly now: () => number;
  private readonly o: ArtifactStoreOptions;
  /** Bytes each open protocol upload holds (staged and arriving), so the cap holds across parallel blocks. */
  private readonly receiving = new Map<string, number>();
  /** The sha256 of each joined upload file, taken while joining (lost on a restart: then read again). */
  private readonly digests = new Map<string, string>();
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
    if (!ANY_ARTIFACT_NAME.test(name))
      throw new InvalidRequestError(
        'an artifact name is at most 100 characters without " : < > | * ? \\ / or line breaks, not starting with "." or a space',
      );
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
    return join(this.folder(buildId), `.${artifactDiskName(name)}.${job}.part`);
  }
  private blocks(buildId: string, job: string, name: string): string {
    return join(this.folder(buildId), `.${artifactDiskName(name)}.${job}.blocks`);
  }
  /** Where the bytes of an artifact live: native ones keep their `.tar.gz` name. */
  private file(buildId: string, name: string, format?: 'zip' | 'file'): string {
    const disk = artifactDiskName(name);
    return join(this.folder(buildId), format ? `${disk}.blob` : `${disk}.tar.gz`);
  }
  private get uploads() {
    return (buildId: string) => keys(this.o.prefix).artifactUploads(buildId);
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
    return this.publish(buildId, job, name, { expectedSize });
  }

  /** Moves the finished part file into place and indexes it: only now is the artifact listed. */
  private async publish(
    buildId: string,
    job: string,
    name: string,
    o: { expectedSize?: number | undefined; upload?: ArtifactUpload; digest?: string },
  ): Promise<ArtifactInfo> {
    const part = this.part(buildId, job, name);
    const size = (await stat(part).catch(() => null))?.size;
    if (size === undefined) throw new InvalidRequestError(`nothing was uploaded for artifact "${name}"`);
    if (o.expectedSize !== undefined && size !== o.expectedSize)
      throw new InvalidRequestError(`the upload holds ${size} bytes, not ${o.expectedSize}`);
    if (o.digest !== undefined) {
      const m = /^sha256:([0-9a-f]{64})$/.exec(o.digest);
      if (!m) throw new InvalidRequestError('a digest is "sha256:" and 64 hex digits');
      let hex = this.digests.get(part);
      if (!hex) {
        const hash = createHash('sha256');
        for await (const chunk of createReadStream(part)) hash.update(chunk as Buffer);
        hex = hash.digest('hex');
      }
      if (hex !== m[1])
        throw new InvalidRequestError(`the upload's bytes do not have the digest ${o.digest}`);
    }
    const now = this.now();
    const kept = now + this.o.retentionMs;
    const asked = o.upload?.expires_at ? Date.parse(o.upload.expires_at) : NaN;
    const expires = Number.isFinite(asked) && asked > now && asked < kept ? asked : kept;
    const format = o.upload?.format;
    const info: ArtifactInfo = {
      name,
      job,
      size,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(expires).toISOString(),
      id: await this.o.redis.incr(keys(this.o.prefix).artifactIds),
      ...(format ? { format } : {}),
      ...(o.upload?.file_name ? { file_name: o.upload.file_name } : {}),
      ...(o.digest ? { digest: o.digest } : {}),
    };
    await rename(part, this.file(buildId, name, format));
    this.digests.delete(part);
    // The other format's file of an earlier upload of this name goes.
    await unlink(this.file(buildId, name, format ? undefined : 'zip')).catch(() => {});
    const k = keys(this.o.prefix);
    await this.o.redis.eval(
      PUBLISH,
      4,
      this.index(buildId),
      k.artifactsByAge,
      k.artifactBytes,
      this.expiry,
      name,
      JSON.stringify(info),
      size,
      `${buildId}\n${name}`,
      now,
      kept,
      buildId,
    );
    if (o.upload) await this.o.redis.hdel(this.uploads(buildId), name);
    await this.evict(`${buildId}\n${name}`);
    return info;
  }

  /** Unindexes one artifact and removes its file; false when another caller did first. */
  private async drop(buildId: string, name: string, format?: 'zip' | 'file'): Promise<boolean> {
    const k = keys(this.o.prefix);
    const text = await this.o.redis.hget(this.index(buildId), name);
    const dropped = Number(
      await this.o.redis.eval(
        DROP,
        3,
        this.index(buildId),
        k.artifactsByAge,
        k.artifactBytes,
        name,
        `${buildId}\n${name}`,
      ),
    );
    const f = format ?? (text ? (JSON.parse(text) as ArtifactInfo).format : undefined);
    await unlink(this.file(buildId, name, f)).catch(() => {});
    return dropped === 1;
  }

  /**
   * Past the total cap, removes the oldest artifacts of any build (never `keep`, the one just stored).
   * Returns how many went.
   */
  async evict(keep?: string): Promise<number> {
    const total = this.o.totalBytes ?? 0;
    if (total <= 0) return 0;
    const k = keys(this.o.prefix);
    let n = 0;
    while (Number((await this.o.redis.get(k.artifactBytes)) ?? 0) > total) {
      const oldest = (await this.o.redis.zrange(k.artifactsByAge, '0', '1')).find((m) => m !== keep);
      if (!oldest) break;
      const [buildId, name] = oldest.split('\n') as [string, string];
      if (await this.drop(buildId, name)) n++;
    }
    return n;
  }

  /** Bytes all stored artifacts hold. */
  async totalBytes(): Promise<number> {
    return Number((await this.o.redis.get(keys(this.o.prefix).artifactBytes)) ?? 0);
  }

  private uploadKey(buildId: string, job: string, name: string): string {
    return `${buildId}\n${job}\n${name}`;
  }

  /**
   * Begins an upload through the artifact protocol (`CreateArtifact`): nothing is listed until
   * `finalize`, and what a crash leaves (staged blocks, a half-written file) never is, and goes with the
   * build's folder at the end of the retention.
   */
  async begin(buildId: string, job: string, name: string, upload: ArtifactUpload): Promise<void> {
    await this.owned(buildId, job, name);
    if (upload.job !== job) throw new InvalidRequestError('an upload belongs to the job that begins it');
    const pending = await this.o.redis.hget(this.uploads(buildId), name);
    const other = pending ? (JSON.parse(pending) as ArtifactUpload).job : null;
    if (other && other !== job)
      throw new ConflictError(`artifact "${name}" of this build is being uploaded by job "${other}"`);
    if (!pending) {
      // Each open upload may stage up to the per-artifact cap before it is counted anywhere: a job may
      // hold only a few open at once, so it cannot fill the disk with uploads it never finalizes.
      const open = (await this.o.redis.hvals(this.uploads(buildId))).filter(
        (v) => (JSON.parse(v) as ArtifactUpload).job === job,
      ).length;
      if (open >= MAX_OPEN_UPLOADS)
        throw new PayloadTooLargeError(
          `job "${job}" already has ${open} artifact uploads in progress, the most one job may have at once: finalize one first`,
        );
    }
    const dir = this.blocks(buildId, job, name);
    await rm(dir, { recursive: true, force: true });
    await unlink(this.part(buildId, job, name)).catch(() => {});
    this.digests.delete(this.part(buildId, job, name));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.receiving.set(this.uploadKey(buildId, job, name), 0);
    await this.o.redis
      .multi()
      .hset(this.uploads(buildId), name, JSON.stringify(upload))
      .zadd(this.expiry, 'GT', this.now() + this.o.retentionMs, buildId)
      .exec();
  }

  /** The upload `job` began for `name`, or NotFoundError. */
  async upload(buildId: string, job: string, name: string): Promise<ArtifactUpload> {
    ArtifactStore.check(buildId, name);
    const text = await this.o.redis.hget(this.uploads(buildId), name);
    const u = text ? (JSON.parse(text) as ArtifactUpload) : null;
    if (!u || u.job !== job) throw new NotFoundError(`no upload of artifact "${name}" by this job is open`);
    return u;
  }

  /** Bytes already staged for an upload (after a restart, from its files). */
  private async held(key: string, dir: string): Promise<number> {
    const known = this.receiving.get(key);
    if (known !== undefined) return known;
    let total = 0;
    for (const f of await readdir(dir).catch(() => [] as string[]))
      if (!f.includes('.')) total += (await stat(join(dir, f)).catch(() => null))?.size ?? 0;
    this.receiving.set(key, total);
    return total;
  }

  /**
   * Stages one block of an upload (Azure's `PUT ?comp=block`). Blocks may arrive in parallel and in any
   * order; the cap counts every byte of the upload as it arrives, and refuses the block that passes it.
   */
  async stageBlock(
    buildId: string,
    job: string,
    name: string,
    blockId: string,
    body: Readable,
  ): Promise<number> {
    await this.upload(buildId, job, name);
    if (!BLOCK_ID.test(blockId)) throw new InvalidRequestError('a block id is 1 to 128 base64 characters');
    const dir = this.blocks(buildId, job, name);
    const key = this.uploadKey(buildId, job, name);
    const file = join(dir, createHash('sha256').update(blockId).digest('hex'));
    let total = await this.held(key, dir);
    const before = (await stat(file).catch(() => null))?.size ?? 0;
    this.receiving.set(key, (total -= before));
    const tmp = `${file}.${randomBytes(6).toString('hex')}`;
    let size = 0;
    const max = this.o.maxBytes;
    const receiving = this.receiving;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        size += chunk.length;
        const now = (receiving.get(key) ?? 0) + chunk.length;
        receiving.set(key, now);
        if (now > max)
          done(new PayloadTooLargeError(`artifact "${name}" is larger than its limit of ${max} bytes`));
        else done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
      await rename(tmp, file);
    } catch (err) {
      this.receiving.set(key, (this.receiving.get(key) ?? 0) - size);
      await unlink(tmp).catch(() => {});
      throw err;
    }
    return size;
  }

  /**
   * Joins the staged blocks, in the order of the block list (Azure's `PUT ?comp=blocklist`), into the
   * upload's file; still not listed until `finalize`.
   */
  async commitBlocks(buildId: string, job: string, name: string, blockIds: string[]): Promise<number> {
    await this.upload(buildId, job, name);
    if (blockIds.length > MAX_BLOCKS) throw new InvalidRequestError(`at most ${MAX_BLOCKS} blocks`);
    const dir = this.blocks(buildId, job, name);
    const files = blockIds.map((id) => {
      if (!BLOCK_ID.test(id)) throw new InvalidRequestError('a block id is 1 to 128 base64 characters');
      return join(dir, createHash('sha256').update(id).digest('hex'));
    });
    const part = this.part(buildId, job, name);
    let size = 0;
    for (const [i, f] of files.entries()) {
      const s = await stat(f).catch(() => null);
      if (!s) throw new InvalidRequestError(`block ${blockIds[i]} was never staged`);
      size += s.size;
    }
    if (size > this.o.maxBytes)
      throw new PayloadTooLargeError(
        `artifact "${name}" is larger than its limit of ${this.o.maxBytes} bytes`,
      );
    // The digest is taken on this one pass over the bytes, so finalizing reads them no more.
    const hash = createHash('sha256');
    this.digests.delete(part);
    if (files.length === 1) {
      // One block (most artifacts, up to 8 MB, and single files): it becomes the file, uncopied.
      for await (const chunk of createReadStream(files[0]!)) hash.update(chunk as Buffer);
      await rename(files[0]!, part);
    } else {
      const tmp = `${part}.${randomBytes(6).toString('hex')}`;
      // One pipeline over every block in order (not one per block into the same file, whose listeners pile up).
      async function* joined() {
        for (const f of files) yield* createReadStream(f);
      }
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(joined, tee, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
        await rename(tmp, part);
      } catch (err) {
        await unlink(tmp).catch(() => {});
        throw err;
      }
    }
    this.digests.set(part, hash.digest('hex'));
    return size;
  }

  /**
   * Lists the upload as an artifact (`FinalizeArtifact`), after checking the size and digest the client
   * sends against the bytes; the staged blocks go.
   */
  async finalize(
    buildId: string,
    job: string,
    name: string,
    o: { size?: number | undefined; digest?: string | undefined },
  ): Promise<ArtifactInfo> {
    const upload = await this.upload(buildId, job, name);
    await this.owned(buildId, job, name);
    const info = await this.publish(buildId, job, name, {
      expectedSize: o.size,
      upload,
      ...(o.digest ? { digest: o.digest } : {}),
    });
    this.receiving.delete(this.uploadKey(buildId, job, name));
    await rm(this.blocks(buildId, job, name), { recursive: true, force: true });
    return info;
  }

  /** Removes one artifact `job` uploaded (`DeleteArtifact`). */
  async delete(buildId: string, job: string, name: string): Promise<ArtifactInfo> {
    const info = await this.info(buildId, name);
    if (info.job !== job)
      throw new ConflictError(
        `artifact "${name}" was uploaded by job "${info.job}"; only that job deletes it`,
      );
    // Through drop, so its bytes leave the total and its place in the age order (else every delete would
    // leave its bytes counted, and the total cap would evict other builds' artifacts).
    await this.drop(buildId, name, info.format);
    return info;
  }

  /** Stores the body as the artifact `name` of the build, uploaded by `job` (one chunk). */
  async put(buildId: string, job: string, name: string, body: Readable): Promise<ArtifactInfo> {
    try {
      await this.writeChunk(buildId, job, name, body, 0);
    } catch (err) {
      if (BUILD_ID.test(buildId) && ANY_ARTIFACT_NAME.test(name) && JOB_NAME.test(job))
        await unlink(this.part(buildId, job, name)).catch(() => {});
      throw err;
    }
    return this.commit(buildId, job, name);
  }

  /** The artifact's bytes (a gzipped tar, or what the artifact protocol uploaded). */
  async open(buildId: string, name: string): Promise<{ info: ArtifactInfo; stream: Readable }> {
    const info = await this.info(buildId, name);
    const stream = createReadStream(this.file(buildId, name, info.format));
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new NotFoundError(`artifact "${name}" of build ${buildId} is gone`)));
    });
    return { info, stream };
  }

  /** Removes every artifact of a build. */
  async remove(buildId: string): Promise<void> {
    if (!BUILD_ID.test(buildId)) return;
    for (const name of await this.o.redis.hkeys(this.index(buildId))) await this.drop(buildId, name);
    await rm(this.folder(buildId), { recursive: true, force: true });
    await this.o.redis
      .multi()
      .del(this.index(buildId))
      .del(this.uploads(buildId))
      .zrem(this.expiry, buildId)
      .exec();
  }

  /** Housekeeping: removes the artifacts of builds whose newest artifact has expired. Returns how many builds. */
  async sweep(): Promise<number> {
    const ids = await this.o.redis.zrangebyscore(this.expiry, '-inf', this.now(), 'LIMIT', 0, 1000);
    for (const id of ids) await this.remove(id);
    return ids.length;
  }
}
