import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** A receiver that accepts every request and never answers, counting how many it holds at once. */
async function hangingReceiver() {
  const open = new Set<ServerResponse>();
  const starts: number[] = [];
  let most = 0;
  const server = createServer((req, res) => {
    starts.push(Date.now());
    open.add(res);
    most = Math.max(most, open.size);
    res.on('close', () => open.delete(res));
    req.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    starts,
    most: () => most,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('delivery isolation', () => {
  // Long enough that a loaded machine delivers all 40 healthy messages well within it (3 s was flaky).
  const TIMEOUT = 10_000;
  const PUSHES = 40;
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let healthy: Awaited<ReturnType<typeof startReceiver>>;
  let hanging: Awaited<ReturnType<typeof hangingReceiver>>;

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    healthy = await startReceiver();
    hanging = await hangingReceiver();
    const notify = (url: string) =>
      `  - url: ${url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`;
    server = await startServer(
      redis,
      {
        'p.yml': `name: p\nrepository: octo-org/*\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n${notify(hanging.url)}${notify(healthy.url)}`,
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        CB: whsec(),
        PUSHCI_NOTIFY_TIMEOUT_MS: String(TIMEOUT),
        PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,30s',
      },
    );
  });
  after(async () => {
    await hanging?.close();
    await server?.close();
    await healthy?.close();
    await redis?.stop();
  });

  it('a receiver that hangs holds a few delivery slots, not all of them', async () => {
    // [skip ci] builds end at once: each sends its build.completed to both receivers, the hanging one first.
    for (let i = 0; i < PUSHES; i++) {
      const r = await sendGithub(
        server.base,
        githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, message: `m${i} [skip ci]` }),
        's',
      );
      assert.equal(r.status, 202, r.text);
    }
    await waitFor(() => healthy.got.length >= PUSHES, 30_000, 'every message at the healthy receiver');
    const lastHealthy = Math.max(...healthy.got.map((g) => g.at));
    const firstHang = Math.min(...hanging.starts);
    // Had the hanging receiver taken all 16 slots, the rest would have waited for its attempts to time out.
    assert.ok(
      lastHealthy < firstHang + TIMEOUT,
      `the healthy receiver got its last message ${lastHealthy - firstHang} ms after the first hung attempt began`,
    );
    assert.ok(
      hanging.most() <= 4,
      `at most 4 attempts at the hanging receiver at once, saw ${hanging.most()}`,
    );
    assert.ok(hanging.most() >= 1);
    // Messages that waited for a place used no attempt: each reached the receiver at most once so far.
    assert.ok(hanging.starts.length <= PUSHES);
  });
});
