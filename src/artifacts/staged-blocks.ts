import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidRequestError } from '../errors.ts';
import { pipeBody } from './pipe-body.ts';

/** Block ids are the client's (base64 in Azure's protocol): never a path, only hashed into one. */
const BLOCK_ID = /^[A-Za-z0-9+/=_-]{1,128}$/;

/** The file a staged block lives in, inside its upload's blocks folder. */
export function blockFile(dir: string, blockId: string): string {
  if (!BLOCK_ID.test(blockId)) throw new InvalidRequestError('a block id is 1 to 128 base64 characters');
  return join(dir, createHash('sha256').update(blockId).digest('hex'));
}

/** Bytes the blocks staged in `dir` hold (temporary files, which have a dot in their names, aside). */
export async function stagedBytes(dir: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(dir).catch(() => [] as string[]))
    if (!f.includes('.')) total += (await stat(join(dir, f)).catch(() => null))?.size ?? 0;
  return total;
}

/**
 * Streams one block into `file` through a temporary file, so a block that fails leaves nothing
 * half-written. Every chunk goes through `add`, which counts it into the upload's total and returns the
 * error to stop with (the cap passed) or null; a failed block takes its bytes back out. Returns its size.
 */
export async function writeBlock(
  body: Readable,
  file: string,
  add: (bytes: number) => Error | null,
): Promise<number> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}`;
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      const refused = add(chunk.length);
      if (refused) done(refused);
      else done(null, chunk);
    },
  });
  try {
    await pipeBody(body, count, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    await rename(tmp, file);
  } catch (err) {
    add(-size);
    await unlink(tmp).catch(() => {});
    throw err;
  }
  return size;
}

/**
 * Joins staged block files, in order, into `part`, and returns the sha256 (hex) of the bytes, taken on
 * this one pass so finalizing need not read them again. A single block becomes the file, uncopied.
 */
export async function joinBlocks(files: string[], part: string): Promise<string> {
  if (files.length === 1) {
    const hex = await sha256OfFile(files[0]!);
    await rename(files[0]!, part);
    return hex;
  }
  const hash = createHash('sha256');
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
  return hash.digest('hex');
}

/** The sha256 (hex) of a file's bytes. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
