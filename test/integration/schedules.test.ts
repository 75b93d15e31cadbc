import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.ts';
import { createStack, type Stack } from '../../src/stack.ts';
import { after, before, describe, it } from 'node:test';
import { fireSchedule } from '../../src/builds/schedules.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

/**
 * Scheduled builds with two whole pushci processes (HTTP, workers, schedulers) on one Redis: a tick
 * builds once, on the head of the default branch as it is when the schedule fires.
 */
describe('scheduled builds', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let one: TestServer;
  let two: TestServer;
  let conn: Redis;
  let stack: Stack;
  const pipeline = (dir: string) => ({
    'nightly.yml': `
name: nightly
repository: octo-org/nightly
clone-url: ${dir}
on:
  schedule:
    - cron: '* * * * *'
jobs:
  build:
    steps:
      - name: show
        run: echo "OUT $CI_PIPELINE_EVENT $CI_PIPELINE_SCHEDULE $CI_COMMIT_BRANCH $(git rev-parse HEAD)"
`,
  });

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': '1' }]);
    repo.git('branch', '-m', 'main', 'trunk'); // the default branch is not always main
    one = await startServer(redis, pipeline(repo.dir));
    two = await startServer(redis, pipeline(repo.dir));
    conn = new Redis(redis.url, { maxRetriesPerRequest: null });
    stack = createStack(conn, one.config, createLogger('silent'));
  });
  after(async () => {
    await stack?.close();
    conn?.disconnect();
    await one?.close();
    await two?.close();
    await redis?.stop();
  });

  const builds = async () =>
    ((await (await one.api('/api/builds?event=schedule')).json()) as { builds: BuildView[] }).builds;

  // Its waits add up to 108 s (a tick of a per-minute cron, 3 s for a second build, 30 s for the
  // build), close to the suite's 120 s per test: in a loaded run the tick alone took 49 s.
  it(
    'fires within a minute, once for two processes, on the default branch head',
    { timeout: 180_000 },
    async () => {
      const head = repo.commit({ 'b.txt': '2' }, 'the newest commit');
      const [b] = await waitFor(
        async () => ((await builds()).length > 0 ? await builds() : null),
        75_000,
        'a tick',
      );
      // Both processes run the scheduler and a schedules worker; give a second build time to appear.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await builds()).length, 1, 'one build per tick across both processes');
      assert.equal(b!.event, 'schedule');
      assert.equal(b!.cron, '* * * * *');
      assert.equal(b!.branch, 'trunk');
      assert.equal(b!.sha, head);
      const done = await waitFor(
        async () =>
          ((v) => (v.status === 'success' || v.status === 'failure' || v.status === 'error' ? v : null))(
            (await (await one.api(`/api/builds/${b!.id}`)).json()) as BuildView,
          ),
        30_000,
        'the build',
      );
      assert.equal(done.status, 'success', done.reason ?? '');
      const log = await (await one.api(`/api/builds/${b!.id}/jobs/build/log`)).text();
      assert.match(log, new RegExp(`OUT schedule \\* \\* \\* \\* \\* trunk ${head}`));
      // The pipeline's page learns what the tick did from the API, whichever process fired it.
      // (A later tick may have fired meanwhile: it skips the commit this build built.)
      const tick = ((await (await two.api('/api/pipelines/nightly')).json()) as any).schedules[0].last_tick;
      if (tick.built) assert.deepEqual(tick, { at: tick.at, built: b!.id, branch: 'trunk', sha: head });
      else assert.match(tick.skipped, new RegExp(`build ${b!.id} of this schedule already built ${head}`));
      assert.ok(Date.parse(tick.at) > Date.parse(b!.created_at) - 60_000, tick.at);
    },
  );

  it('skips a commit the schedule already built successfully, unless always', async () => {
    const [last] = await builds();
    const tick = { pipeline: 'nightly', index: 0, cron: '* * * * *', branch: null, always: false };
    const deps = {
      ...stack,
      config: one.config,
      redis: conn,
      log: createLogger('silent'),
      pipelines: () => one.pipelines().pipelines,
    };
    const again = await fireSchedule(deps, tick, 'test-tick-1');
    assert.match(
      'skipped' in again ? again.skipped : '',
      new RegExp(`build ${last!.id} of this schedule already built`),
    );
    const forced = await fireSchedule(deps, { ...tick, always: true }, 'test-tick-2');
    assert.ok('built' in forced, JSON.stringify(forced));
    const twice = await fireSchedule(deps, { ...tick, always: true }, 'test-tick-2');
    assert.deepEqual(twice, forced, 'the same tick run twice builds once');
    const moved = repo.commit({ 'c.txt': '3' });
    const fresh = await fireSchedule(deps, tick, 'test-tick-3');
    assert.ok('built' in fresh && fresh.sha === moved, JSON.stringify(fresh));
  });

  it('builds a working copy’s default branch even when detached and only fetched; says what to set when it has none', async () => {
    // A clone of the repository, as a developer's working copy: detached, with the default branch
    // only as origin/trunk (never checked out here), one commit behind nothing the upstream has.
    const copy = mkdtempSync(join(tmpdir(), 'pushci-working-copy-'));
    const git = (...args: string[]) => execFileSync('git', args, { cwd: copy, encoding: 'utf8' }).trim();
    try {
      execFileSync('git', ['clone', '-q', repo.dir, copy]);
      const newest = repo.commit({ 'd.txt': '4' }, 'upstream moved on');
      git('fetch', '-q', 'origin');
      git('checkout', '-q', '--detach');
      git('branch', '-q', '-D', 'trunk');
      const deps = {
        ...stack,
        config: one.config,
        redis: conn,
        log: createLogger('silent'),
        pipelines: () => one.pipelines().pipelines.map((p) => ({ ...p, cloneUrl: copy })),
      };
      const tick = { pipeline: 'nightly', index: 0, cron: '* * * * *', branch: null, always: true };
      const fired = await fireSchedule(deps, tick, 'test-tick-copy');
      assert.ok('built' in fired, JSON.stringify(fired));
      assert.deepEqual([fired.branch, fired.sha], ['trunk', newest], 'origin/HEAD names trunk; its head');
      const done = await waitFor(
        async () =>
          ((v) => (['success', 'failure', 'error'].includes(v.status) ? v : null))(
            (await (await one.api(`/api/builds/${fired.built}`)).json()) as BuildView,
          ),
        60_000,
        'the build of the working copy',
      );
      assert.equal(done.status, 'success', done.reason ?? '');
      const log = await (await one.api(`/api/builds/${fired.built}/jobs/build/log`)).text();
      assert.match(log, new RegExp(`OUT schedule \\* \\* \\* \\* \\* trunk ${newest}`));
      // Without an origin, a detached working copy names no branch: the reason says what to set.
      git('remote', 'remove', 'origin');
      const none = await fireSchedule(deps, tick, 'test-tick-copy-2');
      assert.ok('skipped' in none);
      assert.match(none.skipped, new RegExp(`the repository at ${copy} names no default branch`));
      assert.match(none.skipped, /detached HEAD[\s\S]*give the schedule a branch:/);
      const release = {
        ...deps,
        pipelines: () =>
          deps.pipelines().map((p) => ({ ...p, schedules: [{ ...p.schedules![0]!, branch: 'release' }] })),
      };
      const missing = await fireSchedule(release, { ...tick, branch: 'release' }, 'test-tick-copy-3');
      assert.ok('skipped' in missing);
      assert.match(missing.skipped, /branch release is not in the repository at .*refs\/heads\/release/);
      // Why nothing was built is on the pipeline's page, not only in the server's log.
      const p = (await (await one.api('/api/pipelines/nightly')).json()) as any;
      assert.equal(p.schedules[0].last_tick.skipped, missing.skipped);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('updates and removes its schedulers when the pipeline file changes', async () => {
    const queue = new Queue('schedules', { connection: conn, prefix: one.config.queuePrefix });
    const patterns = async () =>
      (await queue.getJobSchedulers(0, -1)).map((s) => `${s.key} ${s.pattern}`).sort();
    try {
      assert.deepEqual(await patterns(), ['nightly#0 * * * * *']);
      const file = join(one.config.pipelinesDir, 'nightly.yml');
      writeFileSync(
        file,
        pipeline(repo.dir)['nightly.yml'].replace("'* * * * *'", "'0 3 * * *'\n    - cron: '30 4 * * 1'"),
      );
      await waitFor(
        async () => (await patterns()).join() === 'nightly#0 0 3 * * *,nightly#1 30 4 * * 1',
        15_000,
        'the changed schedules',
      );
      rmSync(file);
      await waitFor(async () => (await patterns()).length === 0, 15_000, 'no schedules left');
      // The process that removed the scheduler forgets its tick right after: wait for that.
      await waitFor(
        async () => (await conn.exists(stack.store.keys.scheduleTick('nightly#0'))) === 0,
        15_000,
        'its last tick forgotten',
      );
    } finally {
      await queue.close();
    }
  });
});
