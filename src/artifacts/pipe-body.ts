import type { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * `pipeline(body, through, out)` for a request body, except that when `through` or `out` fails (a cap
 * passed, a disk full) the body is not destroyed but read to its end and dropped. Destroying an
 * unfinished request destroys its socket, and then the client never gets the answer (413) but a reset,
 * which the job gateway can only report as "server unreachable". Node's server bounds how long the
 * rest may take (its request timeout).
 */
export async function pipeBody(body: Readable, through: Transform, out: Writable): Promise<void> {
  const failed = (err: Error) => through.destroy(err);
  body.once('error', failed);
  body.pipe(through);
  try {
    await pipeline(through, out);
  } catch (err) {
    body.unpipe(through);
    if (!body.destroyed) body.resume();
    throw err;
  } finally {
    body.off('error', failed);
  }
}
