import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const SECRET = 'labels-secret';

describe('runs-on routes jobs by worker labels', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let api: TestServer;
  let gpuWorker: TestServer;
  let smallWorker: TestServer;

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'a\n' }]);
    const pipelines = {
      'route.yml': `name: route
repository: octo-org/route
clone-url: ${repo.dir}
on: push
jobs:
  train:
    runs-on: [self-hosted, gpu]
    steps:
      - run: echo trained
  lint:
    runs-on: \${{ matrix.os }}
    strategy:
      matrix:
        os: [small]
    steps:
      - run: echo linted
  anywhere:
    runs-on: ubuntu-latest
    steps:
      - run: echo ran
  never:
    runs-on: [tpu]
    steps:
      - run: echo impossible
`,
    };
    // The API process runs no jobs; two workers with different labels do.
    api = await startServer(redis, pipelines, { GITHUB_WEBHOOK_SECRET: SECRET }, { worker: false });
    gpuWorker = await startServer(
      redis,
      pipelines,
      { PUSHCI_RUNNER_LABELS: 'self-hosted,linux,x64,gpu' },
      { http: false },
    );
    smallWorker = await startServer(
      redis,
      pipelines,
      { PUSHCI_RUNNER_LABELS: 'self-hosted,linux,small' },
      { http: false },
    );
  });
  after(async () => {
    await smallWorker?.close();
    await gpuWorker?.close();
    await api?.close();
    await redis?.stop();
  });

  it('runs each job on a worker with all its labels; one no worker has waits, saying why', async () => {
    const sha = repo.commits[0]!;
    const res = await sendGithub(
      api.base,
      githubPush({ before: sha, after: sha, repo: 'octo-org/route' }),
      SECRET,
    );
    assert.equal(res.status, 202, res.text);
    const id = res.json.builds[0].id as string;
    const get = async () => (await (await api.api(`/api/builds/${id}`)).json()) as BuildView;
    const b = await waitFor(
      async () => {
        const v = await get();
        const done = v.jobs.filter((j) => j.name !== 'never').every((j) => j.status === 'success');
        const never = v.jobs.find((j) => j.name === 'never')!;
        return done && /no live worker has them/.test(never.reason ?? '') ? v : null;
      },
      60_000,
      'the routable jobs to finish and the impossible one to say why it waits',
    );
    const log = async (job: string) => (await api.api(`/api/builds/${id}/jobs/${job}/log`)).text();
    assert.match(await log('train'), /labels: self-hosted, linux, x64, gpu/);
    assert.match(await log('lint-small'), /labels: self-hosted, linux, small/);
    assert.match(await log('anywhere'), /labels: self-hosted, linux, (x64, gpu|small)/);
    const never = b.jobs.find((j) => j.name === 'never')!;
    assert.equal(never.status, 'queued');
    assert.equal(never.reason, 'waiting for a worker with the labels tpu (no live worker has them)');
    // It stays queued (not failed) until a worker with the label comes, or the build is cancelled.
    const cancel = await api.api(`/api/builds/${id}/cancel`, { method: 'POST' });
    assert.ok(cancel.status < 300, String(cancel.status));
    await waitFor(async () => ((await get()).status === 'canceled' ? true : null), 20_000, 'the cancel');
  });
});
