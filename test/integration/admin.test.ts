import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
  counts: Record<string, number>;
  jobs: Array<{ id: string }>;
}

describe('Bull Board: read-only unless PUSHCI_ADMIN_WRITE=true', () => {
  let repo: TestRepo;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const redises: TestRedis[] = [];
  const servers: TestServer[] = [];
  before(async () => {
    repo = makeRepo([{ 'a.txt': '1' }]);
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    for (const s of servers) await s.close();
    for (const r of redises) await r.stop();
  });

  /** A server with one finished build, so the deliveries queue has completed jobs to retry or remove. */
  const serverWithAJob = async (env: Record<string, string>) => {
    const redis = await startRedis();
    redises.push(redis);
    const server = await startServer(
      redis,
      {
        'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', CB: whsec(), ...env },
    );
    servers.push(server);
    const r = await sendGithub(
      server.base,
      githubPush({ before: '0'.repeat(40), after: repo.commits[0]!, repo: 'octo-org/web' }),
      's',
    );
    const id = r.json.builds[0].id as string;
    await waitFor(
      async () => ((await (await server.api(`/api/builds/${id}`)).json()) as BuildView).status === 'success',
      30_000,
      'build done',
    );
    await waitFor(
      async () => (await board(server, 'deliveries')).counts.completed === 3,
      10_000,
      '3 deliveries',
    );
    return server;
  };
  const board = async (server: TestServer, name: string) => {
    const r = await server.api(`/admin/queues/api/queues?activeQueue=${name}&status=completed&page=1`);
    assert.equal(r.status, 200);
    return ((await r.json()) as { queues: BoardQueue[] }).queues.find((q) => q.name === name)!;
  };
  const total = (q: BoardQueue) => Object.values(q.counts).reduce((a, b) => a + b, 0);

  it('refuses add, retry, promote, remove, clean and empty by default, and changes nothing', async () => {
    const server = await serverWithAJob({});
    const jobs = await board(server, 'deliveries');
    assert.equal(jobs.readOnlyMode, true, 'the UI shows the board read-only');
    const job = jobs.jobs[0]!.id;
    const json = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const attempts: Array<[string, string, unknown?]> = [
      // The attack of issue #16: a hand-made delivery whose URL asks for the server's environment.
      [
        'POST',
        '/admin/queues/api/queues/deliveries/add',
        { name: 'x', data: { url: 'http://127.0.0.1:1/${{ env.GITHUB_TOKEN }}' } },
      ],
      ['PUT', `/admin/queues/api/queues/deliveries/${job}/retry`],
      ['PUT', '/admin/queues/api/queues/deliveries/retry/completed'],
      ['PUT', '/admin/queues/api/queues/deliveries/promote'],
      ['PUT', `/admin/queues/api/queues/deliveries/${job}/clean`],
      ['PUT', '/admin/queues/api/queues/deliveries/clean/completed'],
      ['PUT', '/admin/queues/api/queues/deliveries/empty'],
      ['PUT', '/admin/queues/api/queues/deliveries/pause'],
      ['PUT', '/admin/queues/api/queues/pause'],
      ['DELETE', '/admin/queues/api/queues/deliveries/obliterate'],
    ];
    for (const [method, path, body] of attempts) {
      const r = await fetch(`${server.base}${path}`, {
        method,
        headers: json,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      assert.equal(r.status, 403, `${method} ${path}`);
      const e = (await r.json()) as { error: string; message: string };
      assert.equal(e.error, 'admin_read_only');
      assert.match(e.message, /PUSHCI_ADMIN_WRITE=true/);
    }
    const after = await board(server, 'deliveries');
    assert.deepEqual(after.counts, jobs.counts, 'the queue is as it was: nothing added, retried or removed');
    assert.equal(total(after), 3);
  });

  it('with PUSHCI_ADMIN_WRITE=true the operator may remove a job, still only with a credential from the same origin', async () => {
    const server = await serverWithAJob({ PUSHCI_ADMIN_WRITE: 'true' });
    const before = await board(server, 'deliveries');
    assert.equal(before.readOnlyMode, false);
    const job = before.jobs[0]!.id;
    const login = await fetch(`${server.base}/login?token=${encodeURIComponent(server.token)}`, {
      redirect: 'manual',
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const crossSite = await fetch(`${server.base}/admin/queues/api/queues/deliveries/${job}/clean`, {
      method: 'PUT',
      headers: { cookie, origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site' },
    });
    assert.equal(crossSite.status, 403);
    assert.equal(((await crossSite.json()) as { error: string }).error, 'cross_site_request');
    assert.equal((await board(server, 'deliveries')).counts.completed, 3);
    const own = await fetch(`${server.base}/admin/queues/api/queues/deliveries/${job}/clean`, {
      method: 'PUT',
      headers: { cookie, origin: server.base, 'sec-fetch-site': 'same-origin' },
    });
    assert.ok(own.status < 300, `clean answered ${own.status}`);
    assert.equal((await board(server, 'deliveries')).counts.completed, 2, 'the job was removed');
  });
});
