import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo } from '../helpers/git.ts';
import { spawnPushci } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

describe('pushci cancel and pushci rerun', () => {
  let redis: TestRedis;
  let server: TestServer;

  before(async () => {
    redis = await startRedis();
    const repo = makeRepo([{ 'a.txt': '1' }]);
    server = await startServer(redis, {
      'slow.yml': `
name: slow
repository: octo-org/app
clone-url: ${repo.dir}
on: workflow_dispatch
jobs:
  quick:
    steps:
      - run: echo "QUICK ran"
  wait:
    steps:
      - run: |
          echo "WAIT started"
          sleep 300
`,
    });
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  const cli = async (args: string[]) => {
    const p = spawnPushci(args, { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: server.token });
    const code = await p.exited;
    return { code, out: p.output.join('') };
  };
  const view = async (id: string) => (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
  const ended = (id: string) =>
    waitFor(
      async () => {
        const b = await view(id);
        return ['success', 'failure', 'error', 'canceled', 'skipped'].includes(b.status) ? b : null;
      },
      90_000,
      `build ${id}`,
    );

  it('cancels a running build from the terminal, then re-runs only its canceled job', async () => {
    const started = await cli(['trigger', 'slow', '--branch', 'main', '--json']);
    assert.equal(started.code, 0, started.out);
    const id = (JSON.parse(started.out.trim().split('\n').pop()!) as { id: string }).id;
    await waitFor(
      async () =>
        (await (await server.api(`/api/builds/${id}/jobs/wait/log`)).text()).includes('WAIT started'),
      60_000,
      'the long step to start',
    );
    const c = await cli(['cancel', id]);
    assert.equal(c.code, 0, c.out);
    assert.match(c.out, new RegExp(`canceling ${id}`));
    const b = await ended(id);
    assert.equal(b.status, 'canceled');
    assert.equal(b.jobs.find((j) => j.name === 'quick')?.status, 'success');
    assert.equal(b.jobs.find((j) => j.name === 'wait')?.status, 'canceled');

    // --failed: a new build where only the canceled job runs again; the other keeps its result.
    const r = await cli(['rerun', id, '--failed', '--json']);
    assert.equal(r.code, 0, r.out);
    const again = (JSON.parse(r.out.trim().split('\n').pop()!) as { id: string }).id;
    assert.notEqual(again, id);
    await waitFor(
      async () =>
        (await (await server.api(`/api/builds/${again}/jobs/wait/log`)).text()).includes('WAIT started'),
      60_000,
      'the re-run of the canceled job',
    );
    assert.equal((await cli(['cancel', again])).code, 0);
    const a = await ended(again);
    assert.equal(a.jobs.find((j) => j.name === 'wait')?.status, 'canceled');
    assert.equal(a.jobs.find((j) => j.name === 'quick')?.status, 'success');
  });

  it('says what is wrong for a build that is not there (exit code 1) and without one (its usage, exit code 2)', async () => {
    const missing = await cli(['cancel', 'nosuchbuild']);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /no build nosuchbuild; `pushci builds` lists the builds/);
    const rerunMissing = await cli(['rerun', 'nosuchbuild']);
    assert.equal(rerunMissing.code, 1);
    assert.match(rerunMissing.out, /no build nosuchbuild/);
    const usage = await cli(['rerun']);
    assert.equal(usage.code, 2, usage.out);
    assert.match(usage.out, /usage: pushci rerun <build>/);
  });
});
