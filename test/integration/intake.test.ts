import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { githubPush, githubSignature, post } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { pipelinesDir, startServer, type TestServer } from '../helpers/server.ts';

const MiB = 1024 * 1024;
const PIPELINE = {
  'web.yml': 'repository: octo-org/web\non: push\njobs:\n  j:\n    steps:\n      - run: "true"\n',
};

/** Resident memory of a process, in MiB. */
function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) / 1024;
}

/**
 * POSTs `size` bytes of junk (no signature) at `url`, streamed in 256 KiB writes with backpressure,
 * with a declared Content-Length or chunked. Resolves with the status (or 'reset' when the server
 * closed the connection before answering, which it may do to a body it refused).
 */
function unsignedFlood(url: string, size: number, declared: boolean): Promise<number | 'reset'> {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  return new Promise((resolve) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'push',
        'x-github-delivery': 'flood',
        'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
        ...(declared ? { 'content-length': String(size) } : {}),
      },
    });
    let settled = false;
    req.on('response', (res) => {
      settled = true;
      res.resume();
      resolve(res.statusCode!);
      req.destroy();
    });
    req.on('error', () => {
      if (!settled) resolve('reset');
    });
    let sent = 0;
    const pump = () => {
      while (sent < size && !settled) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n)))
          return void req.once('drain', pump);
      }
      if (!settled) req.end();
    };
    pump();
  });
}

/** Sends only the headers of a POST that declares `size` bytes, and resolves with the answer. */
function declaredOnly(url: string, size: number) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(size),
          'x-hub-signature-256': 'sha256=00',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          resolve({ status: res.statusCode!, headers: res.headers, body });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    },
  );
}

describe('intake limits', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  describe('a real pushci serve under 60 concurrent unsigned 24 MB bodies', () => {
    let proc: PushciProcess;
    let base: string;
    before(async () => {
      proc = spawnPushci(['serve', '--no-worker'], {
        REDIS_URL: redis.url,
        PUSHCI_QUEUE_PREFIX: `${redis.prefix}i`,
        PORT: '0',
        HOST: '127.0.0.1',
        PUSHCI_PIPELINES: pipelinesDir(PIPELINE),
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-intake-')),
        GITHUB_WEBHOOK_SECRET: 's',
        PUSHCI_API_TOKEN: 't',
      });
      base = await waitFor(
        () => {
          for (const line of proc.output.join('').split('\n'))
            if (line.includes('pushci is listening')) return JSON.parse(line).url as string;
          return null;
        },
        // Start-up includes the heap compaction (PUSHCI_COMPACT_HEAP): seconds on a loaded machine.
        60_000,
        'pushci serve listening',
      );
    });
    after(async () => {
      proc?.proc.kill('SIGTERM');
      await proc?.exited;
    });

    it('keeps RSS bounded while they stream, answers 503 with Retry-After beyond the budget, and gives the memory back', async () => {
      const pid = proc.proc.pid!;
      const signed = async () => {
        const body = JSON.stringify(
          githubPush({ before: '0'.repeat(40), after: 'a'.repeat(40), repo: 'octo-org/web' }),
        );
        return post(`${base}/webhooks/github`, body, {
          'x-github-event': 'push',
          'x-github-delivery': crypto.randomUUID(),
          'x-hub-signature-256': githubSignature(body, 's'),
        });
      };
      for (let i = 0; i < 5; i++) assert.equal((await signed()).status, 202);
      await new Promise((r) => setTimeout(r, 500));
      const baseline = rssMiB(pid);
      const url = `${base}/webhooks/github`;
      const flood = async () => {
        let peak = rssMiB(pid);
        const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
        const started = Date.now();
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) => unsignedFlood(url, 24 * 1000 * 1000, i % 2 === 0)),
        );
        clearInterval(sampler);
        const count = (x: number | string) => results.filter((r) => r === x).length;
        const summary = `401: ${count(401)}, 503: ${count(503)}, reset: ${count('reset')}`;
        assert.equal(count(401) + count(503) + count('reset'), 60, summary);
        // A body refused for the budget is answered 503 at once and its connection closed while the client
        // still writes: a busy client can see the close (a reset) before it reads the answer. Either way
        // the server refused it and holds none of it (the 503 itself: the next test).
        assert.ok(count(503) + count('reset') >= 40, `most were refused for the budget (${summary})`);
        assert.ok(count(401) >= 2, `those within the budget were read and refused as unsigned (${summary})`);
        return { peak, ms: Date.now() - started, summary };
      };
      const first = await flood();
      const between = rssMiB(pid);
      const second = await flood();
      // Afterwards: a signed delivery goes through, and the memory goes back.
      assert.equal((await signed()).status, 202);
      await new Promise((r) => setTimeout(r, 3000));
      const settled = rssMiB(pid);
      console.log(
        `intake: 60 x 24 MB unsigned bodies, twice: ${first.summary} in ${first.ms} ms, then ${second.summary} in ${second.ms} ms; ` +
          `RSS baseline ${baseline.toFixed(0)} MiB, peak ${first.peak.toFixed(0)} MiB, between ${between.toFixed(0)} MiB, ` +
          `second peak ${second.peak.toFixed(0)} MiB, 3 s after ${settled.toFixed(0)} MiB`,
      );
      // The budget is 64 MiB of bodies; the rest is socket buffers in flight and garbage the next GC
      // frees. Before the budget, the same flood took 1.5 GB and kept it.
      for (const [name, rss] of [
        ['first peak', first.peak],
        ['second peak', second.peak],
        ['after', settled],
      ] as const)
        assert.ok(
          rss - baseline < 64 + 160,
          `${name}: RSS ${rss.toFixed(0)} MiB, baseline ${baseline.toFixed(0)} MiB`,
        );
    });

    it('a 503 for the budget says so, with Retry-After', async () => {
      // Hold most of the budget with two bodies that declare 24 MiB each and send nothing more.
      const hold = [0, 1].map(() => {
        const req = request(`${base}/webhooks/github`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(24 * MiB),
            'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
          },
        });
        req.on('error', () => {});
        req.write('{');
        return req;
      });
      await new Promise((r) => setTimeout(r, 300));
      const res = await declaredOnly(`${base}/webhooks/github`, 20 * MiB);
      assert.equal(res.status, 503);
      assert.equal(res.headers['retry-after'], '5');
      const r = JSON.parse(res.body) as { error: string; message: string };
      assert.equal(r.error, 'intake_busy');
      assert.match(r.message, /PUSHCI_MAX_INTAKE_BYTES/);
      for (const h of hold) h.destroy();
      await new Promise((res) => setTimeout(res, 300));
      const again = await post(`${base}/webhooks/github`, 'x'.repeat(20 * MiB), {
        'x-hub-signature-256': 'sha256=00',
      });
      assert.equal(again.status, 401, 'the budget came back when those clients went away');
    });
  });

  describe('rate limit on failed authentications, by client address', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(redis, PIPELINE, {
        GITHUB_WEBHOOK_SECRET: 's',
        PUSHCI_RATE_LIMIT: '5',
        PUSHCI_TRUST_PROXY: '127.0.0.1/32, ::1',
      });
    });
    after(async () => {
      await server?.close();
    });

    const unsigned = (xff?: string) =>
      post(`${server.base}/webhooks/github`, '{}', {
        'x-github-event': 'push',
        'x-github-delivery': crypto.randomUUID(),
        ...(xff ? { 'x-forwarded-for': xff } : {}),
      });
    const signed = (xff?: string) => {
      const body = JSON.stringify(
        githubPush({ before: '0'.repeat(40), after: 'b'.repeat(40), repo: 'octo-org/none' }),
      );
      return post(`${server.base}/webhooks/github`, body, {
        'x-github-event': 'push',
        'x-github-delivery': crypto.randomUUID(),
        'x-hub-signature-256': githubSignature(body, 's'),
        ...(xff ? { 'x-forwarded-for': xff } : {}),
      });
    };

    it('limits a source that keeps failing, never its signed deliveries, never other sources', async () => {
      const codes: number[] = [];
      for (let i = 0; i < 7; i++) codes.push((await unsigned('203.0.113.9')).status);
      assert.deepEqual(codes, [401, 401, 401, 401, 401, 429, 429]);
      const limited = await unsigned('203.0.113.9');
      assert.equal(limited.json.error, 'rate_limited');
      // Signed deliveries through the same proxy, from the same client, are never limited.
      for (let i = 0; i < 10; i++) assert.equal((await signed('203.0.113.9')).status, 200);
      // Another client behind the same proxy is not limited by the first one's noise.
      assert.equal((await unsigned('198.51.100.7')).status, 401);
      // What the client writes left of the proxy's own entry is not believed: the right-most untrusted hop counts.
      assert.equal((await unsigned('203.0.113.9, 198.51.100.8')).status, 401);
      assert.equal((await unsigned('198.51.100.8, 203.0.113.9')).status, 429);
      // A trusted proxy chain: the client is the first untrusted address from the right.
      assert.equal((await unsigned('203.0.113.9, 127.0.0.1')).status, 429);
    });

    it('without PUSHCI_TRUST_PROXY, X-Forwarded-For is ignored: the socket address is the client', async () => {
      const s = await startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_RATE_LIMIT: '3' });
      try {
        const codes: number[] = [];
        for (let i = 0; i < 4; i++)
          codes.push(
            (
              await post(`${s.base}/webhooks/github`, '{}', {
                'x-github-event': 'push',
                'x-forwarded-for': `198.51.100.${i}`,
              })
            ).status,
          );
        assert.deepEqual(codes, [401, 401, 401, 429]);
      } finally {
        await s.close();
      }
    });
  });

  it(
    'closes a connection that trickles its headers after the documented 10 s',
    { timeout: 30_000 },
    async () => {
      const server = await startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's' });
      try {
        const { port } = new URL(server.base);
        const socket = connect(Number(port), '127.0.0.1');
        const started = Date.now();
        let answer = '';
        socket.on('data', (d) => (answer += d.toString()));
        const closed = new Promise<number>((r) => socket.on('close', () => r(Date.now() - started)));
        socket.on('error', () => {});
        socket.write('POST /webhooks/github HTTP/1.1\r\nHost: x\r\n');
        // One header byte every 500 ms: each byte is progress, but the headers never end.
        const trickle = setInterval(() => socket.writable && socket.write('X'), 500);
        const ms = await closed;
        clearInterval(trickle);
        assert.ok(ms >= 9_500 && ms <= 11_500, `closed after ${ms} ms`);
        assert.match(answer, /^HTTP\/1\.1 408/);
      } finally {
        await server.close();
      }
    },
  );
});
