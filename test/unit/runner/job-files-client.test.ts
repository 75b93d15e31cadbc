import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { sendChunks } from '../../../src/runner/job-files-client.ts';

describe('chunked uploads', () => {
  const collect = async (pieces: string[], size: number) => {
    const sent: Array<[number, string]> = [];
    const total = await sendChunks(
      Readable.from(pieces.map((p) => Buffer.from(p))),
      size,
      async (start, chunk) => {
        sent.push([start, chunk.toString()]);
      },
    );
    return { sent, total };
  };

  it('cuts a stream into chunks of the size, in order, whatever the pieces it arrives in', async () => {
    assert.deepEqual(await collect(['abcdefgh', 'ij', 'klmnopqrstu'], 5), {
      sent: [
        [0, 'abcde'],
        [5, 'fghij'],
        [10, 'klmno'],
        [15, 'pqrst'],
        [20, 'u'],
      ],
      total: 21,
    });
    assert.deepEqual(await collect(['abcde', 'fghij'], 5), {
      sent: [
        [0, 'abcde'],
        [5, 'fghij'],
      ],
      total: 10,
    });
  });

  it('sends one empty chunk for an empty stream, so the upload exists', async () => {
    assert.deepEqual(await collect([], 5), { sent: [[0, '']], total: 0 });
  });
});
