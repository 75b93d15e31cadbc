import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PayloadTooLargeError } from '../../../src/errors.ts';
import { receiveFile } from '../../../src/artifacts/receive-file.ts';
import { writeBlock } from '../../../src/artifacts/staged-blocks.ts';

const CAP = 100_000;

/**
 * A real server that stores each PUT with `store` under a cap and answers 413 when it is passed, and a
 * client that sends more than the cap, then holds the rest of its body back until the answer came: the
 * refusal must reach it on the same connection (a destroyed request resets the socket instead, which is
 * what the job gateway saw under load as "server unreachable: write EPIPE").
 */
describe('a refused upload is answered, not reset, while its body is still coming', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let n = 0;
  const stores: Record<string, (body: import('node:http').IncomingMessage, file: string) => Promise<number>> =
    {
      receiveFile: (body, file) => receiveFile(body, file, CAP, 'the upload'),
      writeBlock: (body, file) =>
        (() => {
          let held = 0;
          return writeBlock(body, file, (bytes) => {
            held += bytes;
            return held > CAP ? new PayloadTooLargeError(`larger than its limit of ${CAP} bytes`) : null;
          });
        })(),
    };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pushci-pipe-body-'));
    server = createServer((req, res) => {
      const store = stores[req.url!.slice(1)]!;
      store(req, join(dir, `f${n++}`)).then(
        (size) => res.end(JSON.stringify({ size })),
        (err: Error) => {
          res.writeHead(err instanceof PayloadTooLargeError ? 413 : 500, {
            'content-type': 'application/json',
          });
          res.end(JSON.stringify({ message: err.message }));
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  function put(path: string, total: number, first: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path, method: 'PUT', headers: { 'content-length': String(total) } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => {
            // The answer is here: now send the rest, as a slow client would.
            req.end(Buffer.alloc(total - first, 1));
            resolve({ status: res.statusCode!, body });
          });
        },
      );
      req.on('error', reject);
      req.write(Buffer.alloc(first, 1));
    });
  }

  for (const name of Object.keys(stores)) {
    it(`${name}: 413 with the reason; an upload under the cap is stored (control)`, async () => {
      const refused = await put(`/${name}`, 4 * CAP, 2 * CAP);
      assert.equal(refused.status, 413);
      assert.match(refused.body, /larger than its limit of 100000 bytes/);
      const ok = await put(`/${name}`, CAP, CAP);
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(ok.body), { size: CAP });
    });
  }

  it('leaves no file of the refused uploads behind', async () => {
    // One stored file per control; the refused ones were removed (writeBlock's temporary file included).
    assert.equal((await readdir(dir)).length, Object.keys(stores).length);
  });
});
