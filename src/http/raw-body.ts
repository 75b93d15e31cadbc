import type { IncomingMessage } from 'node:http';
import { MalformedPayloadError, PayloadTooLargeError } from '../errors.ts';

/**
 * Reads the exact bytes of a body, refusing it as soon as it passes `limit`: a declared Content-Length
 * over the limit is refused before reading anything, and a chunked body is counted while it streams.
 */
export async function readRawBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () =>
    new PayloadTooLargeError(`body is larger than ${limit} bytes (PUSHCI_MAX_BODY_BYTES)`, { limit });
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw tooLarge();
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof PayloadTooLargeError) throw err;
    throw new MalformedPayloadError(`body could not be read: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks, size);
}
