import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor, type Received } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('SSRF guard', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let listener: Awaited<ReturnType<typeof startReceiver>> & { port: number };
  const servers: TestServer[] = [];
  const targets = (port: number) => ({
    loopback: `http://127.0.0.1:${port}/x`,
    private: 'http://10.0.0.1/x',
    metadata: 'http://169.254.169.254/latest/meta-data/',
    ipv6loop: `http://[::1]:${port}/x`,
    mapped: `http://[::ffff:127.0.0.1]:${port}/x`,
    localhost: `http://localhost:${port}/x`,
  });

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    // Listen on both loopbacks, so allowed deliveries to [::1] and to IPv4 both arrive.
    const got: Received[] = [];
    const srv = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body, at: Date.now() });
        res.end('ok');
      });
    });
    await new Promise<void>((res) => srv.listen(0, '::', res));
    const port = (srv.address() as AddressInfo).port;
    listener = {
      url: '',
      got,
      types: () => [],
      close: () => new Promise<void>((res) => srv.close(() => res())),
      port,
    };
  });
  after(async () => {
    for (const s of servers) await s.close();
    await listener?.close();
    await redis?.stop();
  });

  async function run(allow: string) {
    const t = targets(listener.port);
    const notify = Object.values(t)
      .map((u) => `  - url: ${u}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`)
      .join('');
    const s = await startServer(
      { ...redis, prefix: `${redis.prefix}${allow ? 'a' : 'd'}` },
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n${notify}`,
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        CB: whsec(),
        PUSHCI_NOTIFY_ALLOW: allow,
        PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,10s',
      },
    );
    servers.push(s);
    const res = await sendGithub(
      s.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );
    const id = res.json.builds[0].id as string;
    const list = await waitFor(
      async () => {
        const d = ((await (await s.api(`/api/deliveries?build=${id}`)).json()) as { deliveries: any[] })
          .deliveries;
        return d.length === Object.keys(t).length && d.every((x) => x.state !== 'retrying') ? d : null;
      },
      20_000,
      'every delivery to settle',
    );
    return Object.fromEntries(Object.entries(t).map(([k, url]) => [k, list.find((d) => d.target === url)]));
  }

  it('refuses internal addresses by default, once, with a clear reason', async () => {
    const before = listener.got.length;
    const byName = await run('');
    for (const [name, d] of Object.entries(byName)) {
      assert.equal(d.state, 'failed', name);
      assert.equal(d.attempts, 1, `${name} is not retried`);
      assert.match(d.attempt_log[0].error, /internal address/, name);
    }
    assert.equal(listener.got.length, before, 'nothing reached the listener');
  });

  it('delivers to internal addresses that PUSHCI_NOTIFY_ALLOW lists', async () => {
    const byName = await run('127.0.0.1/32,::1');
    for (const name of ['loopback', 'ipv6loop', 'mapped', 'localhost'])
      assert.equal(byName[name].state, 'delivered', name);
    for (const name of ['private', 'metadata'])
      assert.match(byName[name].attempt_log[0].error, /internal address/, name);
    assert.equal(listener.got.length, 4);
  });
});
