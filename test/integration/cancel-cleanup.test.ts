import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnded, buildView, jobLog, pipelineHead, pushBuild } from '../helpers/push-build.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const SECRET = 'cancel-cleanup-secret';

/** A node action with no dependencies: its main and its post each print a line. */
const ACTION = `name: Probe
runs:
  using: node20
  main: main.js
  post: post.js
`;

/**
 * GitHub's rule for a cancelled run or a timed-out job: the running step is stopped, then the steps whose
 * if: calls always() or cancelled() still run (the others are skipped), actions' post steps run, and so
 * do the jobs whose if: calls always() or cancelled(); the run ends cancelled (a timed-out job failed).
 */
describe('after a cancel or a job timeout: always(), cancelled(), post steps and jobs', () => {
  const s = suiteServer({
    history: [
      {
        '.github/actions/probe/action.yml': ACTION,
        '.github/actions/probe/main.js': "console.log('MAIN ran-' + (40 + 2));\n",
        '.github/actions/probe/post.js': "console.log('POST ran status=' + process.env.PROBE);\n",
        '.github/actions/slow/action.yml': ACTION,
        '.github/actions/slow/main.js':
          "console.log('SLOW-MAIN-' + (40 + 2));\nsetTimeout(() => {}, 60000);\n",
        '.github/actions/slow/post.js': "console.log('SLOW-POST-' + (40 + 2));\n",
      },
    ],
    pipelines: (repo) => ({
      'cancel.yml': `${pipelineHead('cancel', repo.dir)}jobs:
  long:
    steps:
      - uses: ./.github/actions/probe
        env:
          PROBE: set
      - id: slow
        run: echo STARTED-$((40+2)); sleep 60
      - run: echo "NORMAL ran-$((40+2))"
      - if: always()
        run: echo "ALWAYS ran-$((40+2)) job=\${{ job.status }} slow=\${{ steps.slow.outcome }}"
      - if: cancelled()
        run: echo "CANCELLED ran-$((40+2))"
      - if: failure()
        run: echo "FAILURE ran-$((40+2))"
      - if: success()
        run: echo "SUCCESS ran-$((40+2))"
  cleanup:
    needs: long
    if: always()
    steps:
      - run: echo "CLEANUP-JOB ran-$((40+2))"
  oncancel:
    needs: long
    if: \${{ cancelled() }}
    steps:
      - run: echo "ONCANCEL-JOB ran-$((40+2))"
  normal:
    needs: long
    steps:
      - run: echo "NORMAL-JOB ran-$((40+2))"
`,
      'timeout.yml': `${pipelineHead('timeout', repo.dir)}jobs:
  t:
    timeout-minutes: 0.05
    steps:
      - run: echo STARTED-$((40+2)); sleep 60
      - run: echo "NORMAL ran-$((40+2))"
      - if: always()
        run: echo "ALWAYS ran-$((40+2)) job=\${{ job.status }}"
`,
      'late.yml': `${pipelineHead('late', repo.dir)}jobs:
  a:
    steps:
      - run: echo STARTED-$((40+2)); sleep 60
  b:
    needs: a
    if: always()
    steps:
      - run: echo "B-STARTED-$((40+2))"; sleep 60; echo "B-ENDED-$((40+2))"
`,
      'mainpost.yml': `${pipelineHead('mainpost', repo.dir)}jobs:
  m:
    steps:
      - uses: ./.github/actions/slow
`,
      'group.yml': `${pipelineHead('group', repo.dir)}concurrency:
  group: g
  cancel-in-progress: true
jobs:
  j:
    steps:
      - run: echo STARTED-$((40+2)); sleep 60
      - if: always()
        run: echo "CLEAN-START-$((40+2))"; sleep 4; echo "CLEAN-END-$((40+2))"
`,
      'force.yml': `${pipelineHead('force', repo.dir)}jobs:
  f:
    steps:
      - run: echo STARTED-$((40+2)); sleep 60
      - if: always()
        run: echo "SLOW-CLEANUP started-$((40+2))"; sleep 60; echo "SLOW-CLEANUP ended-$((40+2))"
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const start = (name: string) => pushBuild(s.server, { name, sha: s.repo.commits[0]!, secret: SECRET });
  const whenLogged = (id: string, job: string, text: string) =>
    waitFor(async () => ((await jobLog(s.server, id, job)).includes(text) ? true : null), 60_000, text);
  const cancel = async (id: string): Promise<{ forced: boolean }> => {
    const r = await s.server.api(`/api/builds/${id}/cancel`, { method: 'POST' });
    assert.ok(r.status < 300, await r.clone().text());
    return (await r.json()) as { forced: boolean };
  };

  it('a cancel runs the always() and cancelled() steps, the post steps and the always()/cancelled() jobs', async () => {
    const id = await start('cancel');
    await whenLogged(id, 'long', 'STARTED-42');
    await cancel(id);
    const b = await buildEnded(s.server, id, 60_000);
    assert.equal(b.status, 'canceled');
    const jobs = Object.fromEntries(b.jobs.map((j) => [j.name, j.status]));
    assert.deepEqual(jobs, { long: 'canceled', cleanup: 'success', oncancel: 'success', normal: 'canceled' });

    const log = await jobLog(s.server, id, 'long');
    assert.match(log, /MAIN ran-42/);
    assert.match(log, /ALWAYS ran-42 job=cancelled slow=cancelled/);
    assert.match(log, /CANCELLED ran-42/);
    assert.match(log, /POST ran status=set/, 'the action’s post step ran after the cancel');
    // The steps that do not ask to run after a cancel did not.
    assert.doesNotMatch(log, /NORMAL ran-42/);
    assert.doesNotMatch(log, /FAILURE ran-42/);
    assert.doesNotMatch(log, /SUCCESS ran-42/);
    assert.match(log, /skipped: the job was canceled/);
    assert.match(log, /only steps whose if: calls always\(\) or cancelled\(\)/);
    assert.ok(log.indexOf('ALWAYS ran-42') < log.indexOf('POST ran'), 'post steps come last');

    assert.match(await jobLog(s.server, id, 'cleanup'), /CLEANUP-JOB ran-42/);
    assert.match(await jobLog(s.server, id, 'oncancel'), /ONCANCEL-JOB ran-42/);
    assert.doesNotMatch(await jobLog(s.server, id, 'normal'), /NORMAL-JOB ran-42/);
  });

  it('a job that times out runs its always() steps and still ends as a failure, with the reason', async () => {
    const id = await start('timeout');
    const b = await buildEnded(s.server, id, 60_000);
    assert.equal(b.status, 'failure');
    const t = b.jobs.find((j) => j.name === 't')!;
    assert.equal(t.status, 'failure');
    assert.match(t.reason ?? '', /job timed out after 0.05 min/);
    const log = await jobLog(s.server, id, 't');
    assert.match(log, /STARTED-42/);
    assert.match(log, /ALWAYS ran-42 job=cancelled/);
    assert.doesNotMatch(log, /NORMAL ran-42/);
  });

  it('cancelling again ends the steps still running after the first cancel at once', async () => {
    const id = await start('force');
    await whenLogged(id, 'f', 'STARTED-42');
    assert.equal((await cancel(id)).forced, false);
    await whenLogged(id, 'f', 'SLOW-CLEANUP started-42');
    assert.equal((await buildView(s.server, id)).status, 'running', 'the cleanup step runs');
    const forced = Date.now();
    assert.equal((await cancel(id)).forced, true, 'the API says the second cancel forces the end');
    const b = await buildEnded(s.server, id, 30_000);
    assert.ok(Date.now() - forced < 20_000, 'ended within seconds of the second cancel');
    assert.equal(b.status, 'canceled');
    const log = await jobLog(s.server, id, 'f');
    assert.doesNotMatch(log, /SLOW-CLEANUP ended-42/);
    assert.match(log, /canceled after [\d.]+ s: the build was cancelled again/, 'the log says why');
  });

  it('a second cancel also ends a job that started after the first (its if: always())', async () => {
    const id = await start('late');
    await whenLogged(id, 'a', 'STARTED-42');
    await cancel(id);
    await whenLogged(id, 'b', 'B-STARTED-42');
    const forced = Date.now();
    await cancel(id);
    const b = await buildEnded(s.server, id, 30_000);
    assert.ok(Date.now() - forced < 20_000, 'ended within seconds of the second cancel');
    assert.equal(b.status, 'canceled');
    assert.deepEqual(
      b.jobs.map((j) => [j.name, j.status]),
      [
        ['a', 'canceled'],
        ['b', 'canceled'],
      ],
    );
    assert.doesNotMatch(await jobLog(s.server, id, 'b'), /B-ENDED-42/);
  });

  it('a node action stopped during its main still runs its post step', async () => {
    const id = await start('mainpost');
    await whenLogged(id, 'm', 'SLOW-MAIN-42');
    await cancel(id);
    const b = await buildEnded(s.server, id, 60_000);
    assert.equal(b.status, 'canceled');
    assert.match(await jobLog(s.server, id, 'm'), /SLOW-POST-42/);
  });

  it('a newer push superseding a cancelled build again does not cut its cleanup short', async () => {
    const first = await start('group');
    await whenLogged(first, 'j', 'STARTED-42');
    await start('group'); // supersedes the first: its cleanup step starts
    await whenLogged(first, 'j', 'CLEAN-START-42');
    const third = await start('group'); // supersedes both: not a second cancel of the first
    const b = await buildEnded(s.server, first, 60_000);
    assert.equal(b.status, 'canceled');
    assert.match(await jobLog(s.server, first, 'j'), /CLEAN-END-42/, 'its cleanup ran to its end');
    // The group is one build at a time, cleanups included (as on GitHub): the newest started after.
    await whenLogged(third, 'j', 'STARTED-42');
    const newest = await buildView(s.server, third);
    const started = Date.parse(newest.jobs[0]!.started_at!);
    assert.ok(started >= Date.parse(b.finished_at!), `${newest.jobs[0]!.started_at} after ${b.finished_at}`);
    await cancel(third);
    await buildEnded(s.server, third, 60_000);
  });
});
