import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawnPushci } from '../helpers/process.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const PIPELINE = {
  'web.yml': 'repository: octo-org/web\non: push\njobs:\n  j:\n    steps:\n      - run: "true"\n',
};

/** A GET with exactly these headers (fetch would add its own Origin/Sec-Fetch headers). */
function rawGet(url: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('authentication: no anonymous API, a generated token on first start', () => {
  let redis: TestRedis;
  let server: TestServer;
  let dataDir: string;
  before(async () => {
    redis = await startRedis();
    dataDir = join(mkdtempSync(join(tmpdir(), 'pushci-test-auth-')), 'data');
    server = await startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_DATA_DIR: dataDir });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('generates a token into the data dir (0600, dir 0700) and prints one login link', async () => {
    const file = join(dataDir, 'api-token');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.match(server.token, /^[A-Za-z0-9_-]{43}$/);
    const link = server.logs.filter((l) => JSON.stringify(l).includes(server.token));
    assert.equal(link.length, 1, 'exactly one log line carries the token');
    assert.match(
      String(link[0]!.msg),
      new RegExp(`^open the dashboard: http://localhost:\\d+/login\\?token=${server.token}$`),
    );
  });

  it('refuses loopback clients without a credential, with or without proxy headers', async () => {
    for (const path of [
      '/api/builds',
      '/api/pipelines',
      '/api/events',
      '/admin/queues',
      '/admin/queues/api/queues',
    ]) {
      const r = await rawGet(`${server.base}${path}`);
      assert.equal(r.status, 401, path);
      assert.equal(JSON.parse(r.body).error, 'unauthorized', path);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="pushci"');
    }
    // What an ssh -R tunnel or a proxy that forwards nothing looks like: a plain loopback request.
    const tunnel = await rawGet(`${server.base}/api/builds`, { host: 'ci.example.com' });
    assert.equal(tunnel.status, 401);
    const wrong = await rawGet(`${server.base}/api/builds`, { authorization: 'Bearer nope' });
    assert.equal(wrong.status, 401);
    const ok = await rawGet(`${server.base}/api/builds`, { authorization: `Bearer ${server.token}` });
    assert.equal(ok.status, 200);
  });

  it('the login link sets the cookie and redirects to the dashboard; the cookie opens API, SSE and Bull Board', async () => {
    const r = await rawGet(`${server.base}/login?token=${encodeURIComponent(server.token)}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/');
    assert.equal(r.headers['referrer-policy'], 'no-referrer');
    const cookie = String(r.headers['set-cookie']);
    assert.match(cookie, /pushci_token=.*httponly/i);
    assert.match(cookie, /samesite=strict/i);
    const jar = { cookie: cookie.split(';')[0]! };
    assert.equal((await rawGet(`${server.base}/api/builds`, jar)).status, 200);
    assert.equal((await rawGet(`${server.base}/admin/queues`, jar)).status, 200);
    const ac = new AbortController();
    const sse = await fetch(`${server.base}/api/events`, { headers: jar, signal: ac.signal });
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
    ac.abort();
    const bad = await rawGet(`${server.base}/login?token=wrong`);
    assert.equal(bad.status, 401);
    assert.equal(bad.headers['set-cookie'], undefined);
  });

  it('rate-limits wrong tokens at /login per client: then even the right one waits', async () => {
    // A fresh server: the limiter is per process.
    const s = await startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 12; i++) {
        const r = await fetch(`${s.base}/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token: `guess-${i}` }),
        });
        codes.push(r.status);
        if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
      }
      assert.deepEqual(codes, [...Array(10).fill(401), 429, 429]);
      const right = await rawGet(`${s.base}/login?token=${encodeURIComponent(s.token)}`);
      assert.equal(right.status, 429);
      // The API itself is not locked: a client with the token is never held up by someone guessing.
      assert.equal((await s.api('/api/builds')).status, 200);
      assert.equal(s.logs.filter((l) => JSON.stringify(l).includes(s.token)).length, 1);
    } finally {
      await s.close();
    }
  });

  it('keeps the token across restarts, and the CLI on the same machine finds it by itself', async () => {
    await server.close();
    server = await startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_DATA_DIR: dataDir });
    const again = server.logs.find((l) => String(l.msg).startsWith('open the dashboard'));
    assert.equal(again?.token_created, false);
    assert.equal((await server.api('/api/builds')).status, 200);
    const cli = spawnPushci(['builds', '--json'], { PUSHCI_URL: server.base, PUSHCI_DATA_DIR: dataDir });
    assert.equal(await cli.exited, 0, cli.output.join(''));
    assert.deepEqual(JSON.parse(cli.output.join('')).builds, []);
    const elsewhere = spawnPushci(['builds'], {
      PUSHCI_URL: server.base,
      PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-other-')),
    });
    assert.equal(await elsewhere.exited, 1);
    assert.match(
      elsewhere.output.join(''),
      /set PUSHCI_API_TOKEN \(no token given, and none in .*api-token\)/,
    );
  });

  it('refuses a token file other users may read, in the server and in the CLI', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-test-loose-'));
    writeFileSync(join(dir, 'api-token'), 'leaked-token\n');
    chmodSync(join(dir, 'api-token'), 0o644);
    await assert.rejects(
      startServer(redis, PIPELINE, { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_DATA_DIR: dir }),
      /may be read by other users \(mode 644\): chmod 600 it/,
    );
    const cli = spawnPushci(['builds'], { PUSHCI_URL: server.base, PUSHCI_DATA_DIR: dir });
    assert.equal(await cli.exited, 1);
    assert.match(cli.output.join(''), /may be read by other users/);
  });
});
