import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { postJson } from '../../../src/notify/post.ts';
import { RefusedAddressError, createAddressGuard } from '../../../src/notify/ssrf.ts';

/** A loopback receiver that answers 200 and counts the TCP connections it was sent messages on. */
async function receiver(opts: { closeEach?: boolean; keepAliveTimeout?: number } = {}) {
  let connections = 0;
  const bodies: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      if (opts.closeEach) res.setHeader('connection', 'close');
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  server.on('connection', () => connections++);
  if (opts.keepAliveTimeout !== undefined) server.keepAliveTimeout = opts.keepAliveTimeout;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    bodies,
    connections: () => connections,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('postJson', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const r of open) await r.close();
  });
  const opts = () => ({ guard: createAddressGuard(['127.0.0.1/32']), timeoutMs: 10_000 });

  it('sends an endpoint’s messages over one kept-alive connection, each answered and whole', async () => {
    const r = await receiver();
    open.push(r);
    const o = opts();
    for (let i = 0; i < 20; i++) {
      const res = await postJson(`http://127.0.0.1:${r.port}/hook`, { 'x-n': String(i) }, `{"n":${i}}`, o);
      assert.equal(res.status, 200);
      assert.equal(res.body, 'ok');
    }
    assert.deepEqual(
      r.bodies,
      Array.from({ length: 20 }, (_, i) => `{"n":${i}}`),
    );
    assert.equal(r.connections(), 1);
  });

  it('delivers every message to a receiver that closes each connection, or drops idle ones at once', async () => {
    const closing = await receiver({ closeEach: true });
    const quick = await receiver({ keepAliveTimeout: 1 });
    open.push(closing, quick);
    const o = opts();
    for (let i = 0; i < 10; i++) {
      for (const r of [closing, quick])
        assert.equal((await postJson(`http://127.0.0.1:${r.port}/`, {}, `{"n":${i}}`, o)).status, 200);
      // Leave the receivers time to close the idle connections before the next message.
      await new Promise((res) => setTimeout(res, 5));
    }
    assert.equal(closing.bodies.length, 10);
    assert.equal(quick.bodies.length, 10);
    assert.equal(closing.connections(), 10);
  });

  it('never lends a connection opened under one allow-list to a guard that refuses the address', async () => {
    const r = await receiver();
    open.push(r);
    const allowed = opts();
    // Control: the allowing guard opens a connection to localhost and keeps it.
    assert.equal((await postJson(`http://localhost:${r.port}/`, {}, '{}', allowed)).status, 200);
    const strict = { guard: createAddressGuard([]), timeoutMs: 10_000 };
    await assert.rejects(postJson(`http://localhost:${r.port}/`, {}, '{}', strict), RefusedAddressError);
    await assert.rejects(postJson(`http://127.0.0.1:${r.port}/`, {}, '{}', strict), RefusedAddressError);
    assert.equal(r.bodies.length, 1);
  });
});
