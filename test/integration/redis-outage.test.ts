import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

describe('Redis outage', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  before(async () => {
    redis = await startRedis({ private: true });
    repo = makeRepo();
    server = await startServer(
      redis,
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  a:\n    steps:\n      - run: 'true'\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('answers 503 while Redis is down, never 2xx, and heals when it returns', async () => {
    await redis.kill!();
    const payload = githubPush({ before: repo.commits[0]!, after: repo.commits[0]! });
    const started = Date.now();
    const down = await sendGithub(server.base, payload, 's');
    assert.equal(down.status, 503, down.text);
    assert.equal(down.json.error, 'store_unavailable');
    assert.ok(
      Date.now() - started < 5000,
      'the 503 must come quickly, so the forge records a failed delivery',
    );

    await redis.restart!();
    const res = await waitFor(
      async () => {
        const r = await sendGithub(server.base, payload, 's');
        return r.status === 202 ? r : null;
      },
      20_000,
      'the receiver to accept again',
    );
    const id = res.json.builds[0].id as string;
    const b = await waitFor(
      async () => {
        const v = (await (await fetch(`${server.base}/api/builds/${id}`)).json()) as BuildView;
        return v.status === 'success' ? v : null;
      },
      30_000,
      'the build after the outage',
    );
    assert.equal(b.jobs[0]?.status, 'success');
  });
});
