import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor, type Received } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { jobLog, pushAndWait } from '../helpers/push-build.ts';
import type { JobView } from '../../src/model.ts';

const SECRET = 'matrix-secret';

describe('matrix builds with real workers', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const head = (name: string) =>
    `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\n`;

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'a\n' }]);
    receiver = await startReceiver();
    server = await startServer(
      redis,
      {
        'fan.yml': `${head('fan')}jobs:
  test:
    name: Test
    strategy:
      max-parallel: 1
      matrix:
        n: [1, 2]
        word: [alpha]
        include:
          - n: 3
            word: gamma
    steps:
      - run: |
          echo "n=\${{ matrix.n }} word=\${{ matrix.word }} index=\${{ strategy.job-index }}/\${{ strategy.job-total }}"
          sleep 0.3
  report:
    needs: test
    steps:
      - run: echo "all combinations said \${{ needs.test.result }}"
notify:
  - url: ${receiver.url}
    secret: \${{ env.CB_SECRET }}
    events: [job.completed]
`,
        'fast.yml': `${head('fast')}jobs:
  test:
    strategy:
      matrix:
        n: [bad, slow, late]
    steps:
      - run: |
          if [ "\${{ matrix.n }}" = bad ]; then exit 7; fi
          if [ "\${{ matrix.n }}" = late ]; then sleep 2; fi
          sleep 30
  after:
    needs: [test]
    if: always()
    steps:
      - run: echo "result=\${{ needs.test.result }}"
`,
      },
      {
        GITHUB_WEBHOOK_SECRET: SECRET,
        PUSHCI_CONCURRENCY: '3',
        CB_SECRET: whsec(),
        PUSHCI_KILL_GRACE_MS: '300',
      },
    );
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
    await redis?.stop();
  });

  const build = (name: string) =>
    pushAndWait(server, { name, sha: repo.commits[0]!, secret: SECRET, timeoutMs: 60_000 });
  const log = (id: string, job: string) => jobLog(server, id, job);

  it('runs each combination as its own job, one at a time with max-parallel 1, and needs waits for all', async () => {
    const b = await build('fan');
    assert.equal(b.status, 'success');
    const jobs = b.jobs.map((j: JobView) => [j.name, j.display_name, j.group, j.matrix, j.status]);
    assert.deepEqual(jobs, [
      ['test-1-alpha', 'Test (1, alpha)', 'test', { n: 1, word: 'alpha' }, 'success'],
      ['test-2-alpha', 'Test (2, alpha)', 'test', { n: 2, word: 'alpha' }, 'success'],
      ['test-3-gamma', 'Test (3, gamma)', 'test', { n: 3, word: 'gamma' }, 'success'],
      ['report', 'report', null, null, 'success'],
    ]);
    assert.deepEqual(b.jobs[3]!.needs, ['test-1-alpha', 'test-2-alpha', 'test-3-gamma']);
    assert.match(await log(b.id, 'test-2-alpha'), /n=2 word=alpha index=1\/3/);
    assert.match(await log(b.id, 'test-3-gamma'), /n=3 word=gamma index=2\/3/);
    assert.match(await log(b.id, 'report'), /all combinations said success/);
    // max-parallel: 1 — no two combinations ran at the same time.
    const spans = b.jobs
      .slice(0, 3)
      .map((j) => [Date.parse(j.started_at!), Date.parse(j.finished_at!)] as const);
    spans.sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i]![0] >= spans[i - 1]![1], JSON.stringify(spans));
    // The fan-in job started after every combination finished.
    assert.ok(Date.parse(b.jobs[3]!.started_at!) >= Math.max(...spans.map((s) => s[1])));
    // Each combination is its own job.completed, with its title and values.
    await waitFor(() => receiver.got.length >= 4, 10_000, 'job.completed for every job');
    const completed = receiver.got.map((g: Received) => JSON.parse(g.body).data.job as JobView);
    assert.deepEqual(completed.map((j) => j.name).sort(), [
      'report',
      'test-1-alpha',
      'test-2-alpha',
      'test-3-gamma',
    ]);
    assert.deepEqual(completed.find((j) => j.name === 'test-3-gamma')!.matrix, { n: 3, word: 'gamma' });
  });

  it('fail-fast: one failed combination cancels the running ones', async () => {
    const started = Date.now();
    const b = await build('fast');
    assert.equal(b.status, 'failure');
    const by = Object.fromEntries(b.jobs.map((j) => [j.name, j]));
    assert.equal(by['test-bad']!.status, 'failure');
    for (const name of ['test-slow', 'test-late']) {
      assert.equal(by[name]!.status, 'canceled', JSON.stringify(by[name]));
      assert.match(by[name]!.reason ?? '', /fail-fast: test \(bad\) failed/);
    }
    assert.ok(Date.now() - started < 25_000, 'the sleeping combinations did not run to the end');
    assert.match(await log(b.id, 'after'), /result=failure/);
  });
});
