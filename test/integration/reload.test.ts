import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

describe('pipeline reload', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  const file = (branch: string) =>
    `name: p\nrepository: octo-org/web\nclone-url: ${repo.dir}\non:\n  push:\n    branches: [${branch}]\njobs:\n  a:\n    steps:\n      - run: 'true'\n`;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    server = await startServer(redis, { 'p.yml': file('main') }, { GITHUB_WEBHOOK_SECRET: 's' });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });
  const push = (branch: string) =>
    sendGithub(
      server.base,
      githubPush({ ref: `refs/heads/${branch}`, before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );

  it('applies a good edit and keeps the last good set on a broken one', async () => {
    assert.equal((await push('main')).status, 202);
    assert.equal((await push('develop')).status, 200);
    const dir = server.config.pipelinesDir;
    writeFileSync(join(dir, 'p.yml'), file('develop'));
    await waitFor(async () => (await push('develop')).status === 202, 10_000, 'the edit to apply');
    assert.equal((await push('main')).status, 200);

    writeFileSync(join(dir, 'p.yml'), 'repository: [unclosed\n');
    await waitFor(() => server.pipelines().diagnostics.length > 0, 10_000, 'the broken edit to be reported');
    assert.match(server.pipelines().diagnostics[0]!.file, /p\.yml$/);
    assert.equal((await push('develop')).status, 202, 'the last good set stays in force');
    const ready = (await (await fetch(`${server.base}/readyz`)).json()) as { problems: number };
    assert.equal(ready.problems, 1);
    assert.ok(server.logs.some((l) => String(l.problem ?? '').includes('p.yml')));
  });
});
