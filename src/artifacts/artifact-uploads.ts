import { mkdir, rm, stat, unlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ConflictError, InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../errors.ts';
import type { ArtifactIndex } from './artifact-index.ts';
import type { ArtifactUpload } from './artifact-info.ts';
import { checkArtifactName } from './artifact-names.ts';
import type { ArtifactPaths } from './artifact-paths.ts';
import { blockFile, joinBlocks, sha256OfFile, stagedBytes, writeBlock } from './staged-blocks.ts';

/** Azure's own limit of blocks in one blob. */
const MAX_BLOCKS = 50_000;
/** Artifact-protocol uploads one job may have begun and not finalized at once. */
export const MAX_OPEN_UPLOADS = 10;
/**
 * Artifacts one job may make (upload-artifact's own limit on GitHub): each is a file in the data dir
 * and an entry of its build, listed by the API and the build page, and PUSHCI_ARTIFACT_TOTAL_BYTES
 * would not notice thousands of one-byte ones.
 */
export const MAX_ARTIFACTS_PER_JOB = 500;

export interface ArtifactUploadsOptions {
  index: ArtifactIndex;
  paths: ArtifactPaths;
  /** Largest artifact accepted. */
  maxBytes: number;
  /** How long an artifact is kept (an open upload's folder too). */
  retentionMs: number;
  now: () => number;
}

/**
 * Uploads through the artifact protocol (`@actions/artifact`), from `CreateArtifact` to the joined file:
 * blocks staged in parallel under the per-artifact cap, then joined in the client's order. ArtifactStore
 * checks who owns the name first and lists the result at `FinalizeArtifact`.
 */
export class ArtifactUploads {
  private readonly o: ArtifactUploadsOptions;
  /** Bytes each open protocol upload holds (staged and arriving), so the cap holds across parallel blocks. */
  private readonly receiving = new Map<string, number>();
  /** The sha256 of each joined upload file, taken while joining (lost on a restart: then read again). */
  private readonly digests = new Map<string, string>();
  constructor(o: ArtifactUploadsOptions) {
    this.o = o;
  }

  private key(buildId: string, job: string, name: string): string {
    return `${buildId}\n${job}\n${name}`;
  }

  /**
   * Begins an upload (the caller checked the name is the job's): nothing is listed until it is
   * finalized, and what a crash leaves (staged blocks, a half-written file) never is, and goes with the
   * build's folder at the end of the retention.
   */
  async begin(buildId: string, job: string, name: string, upload: ArtifactUpload): Promise<void> {
    if (upload.job !== job) throw new InvalidRequestError('an upload belongs to the job that begins it');
    const pending = await this.o.index.upload(buildId, name);
    if (pending && pending.job !== job)
      throw new ConflictError(`artifact "${name}" of this build is being uploaded by job "${pending.job}"`);
    if (!pending) {
      // Each open upload may stage up to the per-artifact cap before it is counted anywhere: a job may
      // hold only a few open at once, so it cannot fill the disk with uploads it never finalizes.
      const open = (await this.o.index.uploads(buildId)).filter((u) => u.job === job).length;
      if (open >= MAX_OPEN_UPLOADS)
        throw new PayloadTooLargeError(
          `job "${job}" already has ${open} artifact uploads in progress, the most one job may have at once: finalize one first`,
        );
      const made = (await this.o.index.all(buildId)).filter((a) => a.job === job).length;
      if (made + open >= MAX_ARTIFACTS_PER_JOB)
        throw new PayloadTooLargeError(
          `job "${job}" has made ${made + open} artifacts, the most one job may (${MAX_ARTIFACTS_PER_JOB})`,
        );
    }
    const dir = this.o.paths.blocks(buildId, job, name);
    await rm(dir, { recursive: true, force: true });
    await unlink(this.o.paths.part(buildId, job, name)).catch(() => {});
    this.digests.delete(this.o.paths.part(buildId, job, name));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    this.receiving.set(this.key(buildId, job, name), 0);
    await this.o.index.openUpload(buildId, name, upload, this.o.now() + this.o.retentionMs);
  }

  /** The upload `job` began for `name`, or NotFoundError. */
  async get(buildId: string, job: string, name: string): Promise<ArtifactUpload> {
    checkArtifactName(buildId, name);
    const u = await this.o.index.upload(buildId, name);
    if (!u || u.job !== job) throw new NotFoundError(`no upload of artifact "${name}" by this job is open`);
    return u;
  }

  /**
   * Stages one block (Azure's `PUT ?comp=block`). Blocks may arrive in parallel and in any order; the cap
   * counts every byte of the upload as it arrives, and refuses the block that passes it.
   */
  async stageBlock(
    buildId: string,
    job: string,
    name: string,
    blockId: string,
    body: Readable,
  ): Promise<number> {
    await this.get(buildId, job, name);
    const dir = this.o.paths.blocks(buildId, job, name);
    const file = blockFile(dir, blockId);
    const key = this.key(buildId, job, name);
    // After a restart the upload's bytes so far are counted again from its files.
    const held = this.receiving.get(key) ?? (await stagedBytes(dir));
    // A block staged again replaces its earlier bytes.
    const before = (await stat(file).catch(() => null))?.size ?? 0;
    this.receiving.set(key, held - before);
    const max = this.o.maxBytes;
    return writeBlock(body, file, (bytes) => {
      const now = (this.receiving.get(key) ?? 0) + bytes;
      this.receiving.set(key, now);
      if (now <= max) return null;
      return new PayloadTooLargeError(`artifact "${name}" is larger than its limit of ${max} bytes`);
    });
  }

  /**
   * Joins the staged blocks, in the order of the block list (Azure's `PUT ?comp=blocklist`), into the
   * upload's file; still not listed until it is finalized.
   */
  async commitBlocks(buildId: string, job: string, name: string, blockIds: string[]): Promise<number> {
    await this.get(buildId, job, name);
    if (blockIds.length > MAX_BLOCKS) throw new InvalidRequestError(`at most ${MAX_BLOCKS} blocks`);
    const dir = this.o.paths.blocks(buildId, job, name);
    const files = blockIds.map((id) => blockFile(dir, id));
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
    const part = this.o.paths.part(buildId, job, name);
    this.digests.delete(part);
    this.digests.set(part, await joinBlocks(files, part));
    return size;
  }

  /** The sha256 (hex) of an upload's file: the one taken while joining, else read now. */
  async sha256(part: string): Promise<string> {
    return this.digests.get(part) ?? (await sha256OfFile(part));
  }

  /** The upload's file became an artifact: forget its digest. */
  published(part: string): void {
    this.digests.delete(part);
  }

  /** The upload was finalized: forget its byte count and remove its staged blocks. */
  async finished(buildId: string, job: string, name: string): Promise<void> {
    this.receiving.delete(this.key(buildId, job, name));
    await rm(this.o.paths.blocks(buildId, job, name), { recursive: true, force: true });
  }
}
