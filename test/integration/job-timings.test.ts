import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const SECRET = 'timings-secret';

describe('PUSHCI_JOB_TIMINGS', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  const servers: TestServer[] = [];

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'a\n' }]);
  });
  after(async () => {
    for (const s of servers) await s.close();
    await redis?.stop();
  });

  /** Runs one build of a two-step job on a fresh server; returns the server's log lines. */
  async function oneBuild(env: Record<string, string>, name: string) {
    const server = await startServer(
      redis,
      {
        [`${name}.yml`]: `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: echo one\n      - run: echo two\n`,
      },
      { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_QUEUE_PREFIX: `${redis.prefix}:${name}`, ...env },
    );
    servers.push(server);
    const res = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: `octo-org/${name}` }),
      SECRET,
    );
    assert.equal(res.status, 202, res.text);
    const id = res.json.builds[0].id as string;
    const build = await waitFor(
      async () => {
        const b = (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
        return ['success', 'failure', 'error', 'canceled'].includes(b.status) ? b : null;
      },
      60_000,
      `build ${id}`,
    );
    assert.equal(build.status, 'success');
    // The timings line is written right after the result; the build's status can be seen a moment before.
    await waitFor(() => server.logs.some((l) => l.msg === 'job finished'), 10_000, 'job finished');
    return server.logs;
  }

  it('logs one line per job saying where its milliseconds went, phase by phase', async () => {
    const logs = await oneBuild({ PUSHCI_JOB_TIMINGS: 'true' }, 'timed');
    const line = await waitFor(() => logs.find((l) => l.msg === 'job timings'), 10_000, 'job timings');
    assert.equal(line.job, 'j');
    assert.equal(typeof line.queued_ms, 'number');
    const ms = line.ms as Record<string, number>;
    for (const phase of [
      'record read',
      'state write: running',
      'checkout',
      'sandbox prepare',
      'sandbox start',
      'step',
      'log flush',
      'state write: result, status webhooks queued',
    ])
      assert.ok(typeof ms[phase] === 'number' && ms[phase] >= 0, `phase "${phase}" in ${JSON.stringify(ms)}`);
  });

  it('logs no timings when it is off (the default)', async () => {
    const logs = await oneBuild({}, 'untimed');
    assert.ok(logs.some((l) => l.msg === 'job started'));
    assert.equal(
      logs.some((l) => l.msg === 'job timings'),
      false,
    );
  });
});
