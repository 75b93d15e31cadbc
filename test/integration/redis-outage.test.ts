import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { buildEnded } from '../helpers/push-build.ts';
import { waitFor, waitForHttp } from '../helpers/receiver.ts';
import { spawnPushci } from '../helpers/process.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { pipelinesDir, startServer, type TestServer } from '../helpers/server.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
    const b = await buildEnded(server, id, 30_000);
    assert.equal(b.status, 'success', b.reason ?? '');
    assert.equal(b.jobs[0]?.status, 'success');
  });

  it('stops on SIGTERM while Redis is down, within the grace and a few seconds', async () => {
    const own = await startRedis({ private: true });
    const port = await freePort();
    const p = spawnPushci(['serve'], {
      PORT: String(port),
      HOST: '127.0.0.1',
      REDIS_URL: own.url,
      PUSHCI_QUEUE_PREFIX: own.prefix,
      PUSHCI_PIPELINES: pipelinesDir({}),
      PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-data-')),
      PUSHCI_SHUTDOWN_GRACE_MS: '1000',
      PUSHCI_KILL_GRACE_MS: '500',
      GITHUB_WEBHOOK_SECRET: 's',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, { ms: 60_000, what: 'pushci serve' });
      await own.kill!();
      await new Promise((r) => setTimeout(r, 500));
      const signalled = Date.now();
      p.proc.kill('SIGTERM');
      const code = await Promise.race([
        p.exited,
        new Promise((r) => setTimeout(() => r('still running'), 30_000)),
      ]);
      assert.notEqual(code, 'still running', p.output.join(''));
      // Its deadline: the grace (1 s), the kill grace (0.5 s) and the 10 s margin; and some slack for
      // a busy machine. Waiting for Redis, it would never stop.
      assert.ok(Date.now() - signalled < 16_000, `stopped after ${Date.now() - signalled} ms`);
      assert.match(p.output.join(''), /could not stop cleanly in time; exiting/);
    } finally {
      p.proc.kill('SIGKILL');
      await own.stop();
    }
  });
});
