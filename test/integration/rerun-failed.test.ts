import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

// b fails in build #1 only; c needs b; a and d do not depend on it.
const PIPELINE = (cloneUrl: string) => `name: app
repository: octo-org/app
clone-url: ${cloneUrl}
on: push
jobs:
  a:
    steps:
      - run: echo "a ran in build $CI_BUILD_NUMBER"
  b:
    needs: a
    steps:
      - run: |
          echo "b ran in build $CI_BUILD_NUMBER"
          [ "$CI_BUILD_NUMBER" != 1 ]
  c:
    needs: b
    steps:
      - run: echo "c ran in build $CI_BUILD_NUMBER"
  d:
    steps:
      - run: echo "d ran in build $CI_BUILD_NUMBER"
`;

describe('re-run failed jobs', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    pipelines: (repo) => ({ 'app.yml': PIPELINE(repo.dir) }),
    env: { GITHUB_WEBHOOK_SECRET: 's' },
  });
  const get = async (path: string) => (await (await s.server.api(path)).json()) as any;
  const finished = (id: string) =>
    waitFor(
      async () => {
        const b = await get(`/api/builds/${id}`);
        return !['queued', 'running'].includes(b.status) && b;
      },
      60_000,
      `build ${id}`,
    );
  const log = async (id: string, job: string) =>
    (await s.server.api(`/api/builds/${id}/jobs/${job}/log`)).text();
  const jobs = (b: any) => Object.fromEntries(b.jobs.map((j: any) => [j.name, j]));

  let first: any;
  it('runs the failed job and what needs it again, on the same commit; the others keep their results and logs', async () => {
    const sent = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'octo-org/app' }),
      's',
    );
    first = await finished(sent.json.builds[0].id);
    assert.equal(first.status, 'failure');
    assert.deepEqual(
      first.jobs.map((j: any) => [j.name, j.status]),
      [
        ['a', 'success'],
        ['b', 'failure'],
        ['c', 'skipped'],
        ['d', 'success'],
      ],
    );
    const res = await s.server.api(`/api/builds/${first.id}/rerun-failed`, { method: 'POST' });
    assert.equal(res.status, 202);
    const created = ((await res.json()) as any).builds[0];
    assert.equal(created.number, 2);
    const second = await finished(created.id);
    assert.equal(second.status, 'success');
    assert.equal(second.sha, first.sha);
    assert.equal(second.event, 'rerun');
    const [before, after] = [jobs(first), jobs(second)];
    for (const kept of ['a', 'd']) {
      assert.equal(after[kept].status, 'success');
      assert.equal(after[kept].started_at, before[kept].started_at, `${kept} kept its times`);
      assert.equal(after[kept].finished_at, before[kept].finished_at);
      assert.equal(after[kept].attempt, before[kept].attempt);
      assert.match(after[kept].reason, new RegExp(`^kept from #1 \\(${first.id}\\): it succeeded there`));
      assert.match(
        await log(second.id, kept),
        new RegExp(`${kept} ran in build 1\\n`),
        `${kept}'s log came along`,
      );
    }
    for (const again of ['b', 'c']) {
      assert.equal(after[again].status, 'success');
      assert.match(await log(second.id, again), new RegExp(`${again} ran in build 2\\n`));
      assert.ok(Date.parse(after[again].started_at) > Date.parse(first.finished_at), `${again} ran again`);
    }
    // The build it re-ran is untouched.
    assert.deepEqual(await get(`/api/builds/${first.id}`), { ...first, links: first.links });
  });

  it('refuses a build with nothing failed, one still running, and one that does not exist', async () => {
    const [ok] = (await get('/api/builds?status=success')).builds;
    const nothing = await s.server.api(`/api/builds/${ok.id}/rerun-failed`, { method: 'POST' });
    assert.equal(nothing.status, 409);
    assert.match(
      ((await nothing.json()) as any).message,
      /has no failed or canceled job; re-run all of it instead/,
    );
    const missing = await s.server.api('/api/builds/nosuchbuild0000000/rerun-failed', { method: 'POST' });
    assert.equal(missing.status, 404);
    const sent = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'octo-org/app' }),
      's',
    );
    const running = await s.server.api(`/api/builds/${sent.json.builds[0].id}/rerun-failed`, {
      method: 'POST',
    });
    assert.equal(running.status, 409);
    await finished(sent.json.builds[0].id);
  });
});

describe('re-run failed jobs in a concurrency group', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    pipelines: (repo) => ({
      'grp.yml': `name: grp\nrepository: octo-org/grp\nclone-url: ${repo.dir}\non: push\nconcurrency:\n  group: grp\njobs:\n  a:\n    steps:\n      - run: echo a\n  b:\n    needs: a\n    steps:\n      - run: |\n          [ "$CI_BUILD_NUMBER" != 1 ]\n          sleep 4\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 's' },
    stack: true,
  });
  const get = async (path: string) => (await (await s.server.api(path)).json()) as any;
  const push = async () =>
    (
      await sendGithub(
        s.server.base,
        githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[1]!, repo: 'octo-org/grp' }),
        's',
      )
    ).json.builds[0].id as string;

  it('waits for the group like any build, and the repair loop does not start it early', async () => {
    const first = await push();
    await waitFor(
      async () => (await get(`/api/builds/${first}`)).status === 'failure',
      30_000,
      'build #1 to fail',
    );
    const second = await push();
    await waitFor(
      async () => (await get(`/api/builds/${second}`)).jobs[1].status === 'running',
      30_000,
      'build #2 to run b',
    );
    const res = await s.server.api(`/api/builds/${first}/rerun-failed`, { method: 'POST' });
    assert.equal(res.status, 202);
    const third = ((await res.json()) as any).builds[0].id as string;
    const waiting = await get(`/api/builds/${third}`);
    assert.match(waiting.reason, /^waiting for build/);
    assert.deepEqual(await s.stack.lifecycle.repair(third), [], 'repair leaves a waiting build alone');
    assert.deepEqual(
      (await get(`/api/builds/${third}`)).jobs.map((j: any) => j.status),
      ['success', 'pending'],
    );
    await waitFor(async () => (await get(`/api/builds/${second}`)).status === 'success', 30_000, 'build #2');
    await waitFor(
      async () => (await get(`/api/builds/${third}`)).status === 'success',
      30_000,
      'build #3 after #2',
    );
  });
});
