import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { ConflictError, InvalidRequestError, NotFoundError } from '../errors.ts';
import { ageMember, ArtifactIndex } from './artifact-index.ts';
import type { ArtifactInfo, ArtifactUpload } from './artifact-info.ts';
import { ANY_ARTIFACT_NAME, BUILD_ID, checkArtifactName, JOB_NAME } from './artifact-names.ts';
import { ArtifactPaths } from './artifact-paths.ts';
import { receiveFile } from './receive-file.ts';
import { ArtifactUploads } from './artifact-uploads.ts';

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

/**
 * Artifacts (a `.tar.gz` each) of builds, stored by the server under the data dir and indexed in Redis;
 * kept for the retention period, then removed with their folder. Names are unique within a build: a
 * job's later attempt replaces its own artifact, another job's name is refused.
 */
export class ArtifactStore {
  private readonly now: () => number;
  private readonly o: ArtifactStoreOptions;
  private readonly index: ArtifactIndex;
  private readonly paths: ArtifactPaths;
  private readonly uploads: ArtifactUploads;
  constructor(o: ArtifactStoreOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    this.index = new ArtifactIndex(o.redis, o.prefix);
    this.paths = new ArtifactPaths(o.dataDir);
    const { maxBytes, retentionMs } = o;
    this.uploads = new ArtifactUploads({
      index: this.index,
      paths: this.paths,
      maxBytes,
      retentionMs,
      now: this.now,
    });
  }

  async list(buildId: string): Promise<ArtifactInfo[]> {
    if (!BUILD_ID.test(buildId)) return [];
    const all = await this.index.all(buildId);
    const now = this.now();
    return all.filter((a) => Date.parse(a.expires_at) > now).sort((a, b) => a.name.localeCompare(b.name));
  }

  async info(buildId: string, name: string): Promise<ArtifactInfo> {
    checkArtifactName(buildId, name);
    const a = await this.index.get(buildId, name);
    if (!a || Date.parse(a.expires_at) <= this.now())
      throw new NotFoundError(`build ${buildId} has no artifact "${name}"${a ? ' any more (expired)' : ''}`);
    return a;
  }

  private async owned(buildId: string, job: string, name: string): Promise<void> {
    checkArtifactName(buildId, name);
    if (!JOB_NAME.test(job)) throw new InvalidRequestError(`bad job name ${job}`);
    const owner = (await this.index.get(buildId, name))?.job;
    if (owner && owner !== job)
      throw new ConflictError(`artifact "${name}" of this build was uploaded by job "${owner}"`);
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
    await mkdir(this.paths.folder(buildId), { recursive: true, mode: 0o700 });
    const part = this.paths.part(buildId, job, name);
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
    const part = this.paths.part(buildId, job, name);
    const size = (await stat(part).catch(() => null))?.size;
    if (size === undefined) throw new InvalidRequestError(`nothing was uploaded for artifact "${name}"`);
    if (o.expectedSize !== undefined && size !== o.expectedSize)
      throw new InvalidRequestError(`the upload holds ${size} bytes, not ${o.expectedSize}`);
    if (o.digest !== undefined) {
      const m = /^sha256:([0-9a-f]{64})$/.exec(o.digest);
      if (!m) throw new InvalidRequestError('a digest is "sha256:" and 64 hex digits');
      const hex = await this.uploads.sha256(part);
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
      id: await this.index.nextId(),
      ...(format ? { format } : {}),
      ...(o.upload?.file_name ? { file_name: o.upload.file_name } : {}),
      ...(o.digest ? { digest: o.digest } : {}),
    };
    await rename(part, this.paths.file(buildId, name, format));
    this.uploads.published(part);
    // The other format's file of an earlier upload of this name goes.
    await unlink(this.paths.file(buildId, name, format ? undefined : 'zip')).catch(() => {});
    await this.index.publish(buildId, info, now, kept);
    if (o.upload) await this.index.closeUpload(buildId, name);
    await this.evict(ageMember(buildId, name));
    return info;
  }

  /** Unindexes one artifact and removes its file; false when another caller did first. */
  private async drop(buildId: string, name: string, format?: 'zip' | 'file'): Promise<boolean> {
    const indexed = await this.index.get(buildId, name);
    const dropped = await this.index.drop(buildId, name);
    await unlink(this.paths.file(buildId, name, format ?? indexed?.format)).catch(() => {});
    return dropped;
  }

  /**
   * Past the total cap, removes the oldest artifacts of any build (never `keep`, the one just stored).
   * Returns how many went.
   */
  async evict(keep?: string): Promise<number> {
    const total = this.o.totalBytes ?? 0;
    if (total <= 0) return 0;
    let n = 0;
    while ((await this.index.totalBytes()) > total) {
      const oldest = await this.index.oldest(keep);
      if (!oldest) break;
      if (await this.drop(oldest.buildId, oldest.name)) n++;
    }
    return n;
  }

  /** Bytes all stored artifacts hold. */
  async totalBytes(): Promise<number> {
    return this.index.totalBytes();
  }

  /** Begins an upload through the artifact protocol (`CreateArtifact`); see ArtifactUploads.begin. */
  async begin(buildId: string, job: string, name: string, upload: ArtifactUpload): Promise<void> {
    await this.owned(buildId, job, name);
    await this.uploads.begin(buildId, job, name, upload);
  }

  /** The upload `job` began for `name`, or NotFoundError. */
  upload(...args: Parameters<ArtifactUploads['get']>): Promise<ArtifactUpload> {
    return this.uploads.get(...args);
  }

  /** Stages one block of an upload (Azure's `PUT ?comp=block`), within the artifact's cap. */
  stageBlock(...args: Parameters<ArtifactUploads['stageBlock']>): Promise<number> {
    return this.uploads.stageBlock(...args);
  }

  /** Joins an upload's staged blocks in the block list's order (Azure's `PUT ?comp=blocklist`). */
  commitBlocks(...args: Parameters<ArtifactUploads['commitBlocks']>): Promise<number> {
    return this.uploads.commitBlocks(...args);
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
    await this.uploads.finished(buildId, job, name);
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
        await unlink(this.paths.part(buildId, job, name)).catch(() => {});
      throw err;
    }
    return this.commit(buildId, job, name);
  }

  /** The artifact's bytes (a gzipped tar, or what the artifact protocol uploaded). */
  async open(buildId: string, name: string): Promise<{ info: ArtifactInfo; stream: Readable }> {
    const info = await this.info(buildId, name);
    const stream = createReadStream(this.paths.file(buildId, name, info.format));
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', () => reject(new NotFoundError(`artifact "${name}" of build ${buildId} is gone`)));
    });
    return { info, stream };
  }

  /** Removes every artifact of a build. */
  async remove(buildId: string): Promise<void> {
    if (!BUILD_ID.test(buildId)) return;
    for (const name of await this.index.names(buildId)) await this.drop(buildId, name);
    await rm(this.paths.folder(buildId), { recursive: true, force: true });
    await this.index.removeBuild(buildId);
  }

  /** Housekeeping: removes the artifacts of builds whose newest artifact has expired. Returns how many builds. */
  async sweep(): Promise<number> {
    const ids = await this.index.expiredBuilds(this.now());
    for (const id of ids) await this.remove(id);
    return ids.length;
  }
}
