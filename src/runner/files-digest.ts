import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '../format-bytes.ts';
import { openedPath } from './opened-path.ts';

/**
 * Bytes one hashFiles() reads, at most: a step can make a sparse file of many gigabytes that costs its
 * disk nothing, and reading it would hold the worker for minutes.
 */
export const MAX_HASH_BYTES = 512 * 1024 ** 2;

/**
 * O_NOFOLLOW: a file swapped for a symlink since it was listed is not followed out of the checkout.
 * O_NONBLOCK: a file swapped for a FIFO opens at once instead of waiting, forever, for a writer.
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * GitHub's hashFiles() digest, the SHA-256 over the SHA-256 of each file added (in the order added),
 * and the one reader of the files it hashes, for the expression (synchronous) and the cache keys
 * (asynchronous) alike. A job's processes may still be changing the checkout, so each file is opened
 * without following symlinks or waiting on a FIFO, must be a regular file, and must really be where it
 * was meant to be (a folder on the way swapped for a symlink shows in the descriptor's path); all the
 * files together may hold at most `MAX_HASH_BYTES`. Each refusal throws an Error saying which file.
 */
export class FilesDigest {
  private readonly outer = createHash('sha256');
  private readonly buf = Buffer.alloc(1 << 16);
  private total = 0;
  private files = 0;
  private readonly root: string;
  private readonly realRoot: string;

  /** `realRoot`: `root` with its symlinks resolved, as the kernel names an open file under it. */
  constructor(root: string, realRoot: string) {
    this.root = root;
    this.realRoot = realRoot;
  }

  /** Adds the file at `rel` (relative to the root, `/`-separated), reading it synchronously. */
  addSync(rel: string): void {
    const fd = this.opened(rel, () => openSync(join(this.root, rel), OPEN_FLAGS));
    try {
      this.check(rel, fstatSync(fd).isFile(), fd);
      const inner = createHash('sha256');
      for (let n; (n = readSync(fd, this.buf, 0, this.buf.length, null)) > 0;) this.update(inner, n, rel);
      this.finish(inner);
    } finally {
      closeSync(fd);
    }
  }

  /** Adds the file at `rel`, reading it off the event loop. */
  async add(rel: string): Promise<void> {
    const fh = await this.opened(rel, () => open(join(this.root, rel), OPEN_FLAGS));
    try {
      this.check(rel, (await fh.stat()).isFile(), fh.fd);
      const inner = createHash('sha256');
      for (let n; (n = (await fh.read(this.buf, 0, this.buf.length, null)).bytesRead) > 0;)
        this.update(inner, n, rel);
      this.finish(inner);
    } finally {
      await fh.close();
    }
  }

  /** The digest in hex, or '' when no file was added (GitHub's answer when nothing matches). */
  digest(): string {
    return this.files === 0 ? '' : this.outer.digest('hex');
  }

  /** Opens, saying which file a process of the job removed or moved since it was listed. */
  private opened<T>(rel: string, openIt: () => T): T {
    const said = (err: unknown): never => {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`${rel} cannot be read (${code})`);
    };
    try {
      const got = openIt();
      return got instanceof Promise ? (got.catch(said) as T) : got;
    } catch (err) {
      return said(err);
    }
  }

  private check(rel: string, regular: boolean, fd: number): void {
    if (!regular || openedPath(fd) !== join(this.realRoot, rel))
      throw new Error(
        `${rel} was moved or replaced while it was read (a process of the job is changing the checkout)`,
      );
  }

  private update(inner: Hash, n: number, rel: string): void {
    this.total += n;
    if (this.total > MAX_HASH_BYTES)
      throw new Error(
        `the matching files hold more than ${formatBytes(MAX_HASH_BYTES)} (reached at ${rel}); hash fewer files`,
      );
    inner.update(this.buf.subarray(0, n));
  }

  private finish(inner: Hash): void {
    this.outer.update(inner.digest());
    this.files++;
  }
}
