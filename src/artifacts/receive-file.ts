import { createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { PayloadTooLargeError } from '../errors.ts';
import { pipeBody } from './pipe-body.ts';

/**
 * Streams `body` into a new file at `path` (mode 0600, written at `start`), refusing more than
 * `maxBytes`: the file is removed and PayloadTooLargeError thrown as soon as the body passes the cap.
 * Returns the number of bytes written.
 */
export async function receiveFile(
  body: Readable,
  path: string,
  maxBytes: number,
  what: string,
  start = 0,
  chunked = false,
): Promise<number> {
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (start + size > maxBytes)
        done(new PayloadTooLargeError(`${what} is larger than its limit of ${maxBytes} bytes`));
      else done(null, chunk);
    },
  });
  // Chunks of one upload may arrive in any order (the caller made the file): never truncate it then.
  const flags = chunked ? 'r+' : 'w';
  try {
    await pipeBody(body, count, createWriteStream(path, { flags, start, mode: 0o600 }));
  } catch (err) {
    if (!chunked) await unlink(path).catch(() => {});
    throw err;
  }
  return size;
}
