import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEnded } from '../helpers/push-build.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import type { BuildView } from '../../src/model.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('concurrency groups', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }, { 'a.txt': '3' }],
    receiver: true,
    pipelines: (repo, receiver) => {
      const p = (name: string, concurrency: string) => `name: ${name}
repository: octo-org/${name}
clone-url: ${repo.dir}
on: push
concurrency: ${concurrency}
jobs:
  slow:
    steps:
      - run: sleep 1.5
notify:
  - url: ${receiver.url}
    secret: \${{ env.CB }}
`;
      return {
        'cancel.yml': p('cancel', '{ cancel-in-progress: true }'),
        'queue.yml': p('queue', '{}'),
        'capped.yml': p('capped', '{ max: 1 }'),
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', CB: whsec(), PUSHCI_CONCURRENCY: '4', PUSHCI_KILL_GRACE_MS: '300' },
  });

  const push = async (repoName: string, i: number) => {
    const r = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[i]!, repo: `octo-org/${repoName}` }),
      's',
    );
    assert.equal(r.status, 202, r.text);
    return r.json.builds[0].id as string;
  };
  const view = async (id: string) => (await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView;
  const final = (id: string) => buildEnded(s.server, id, 30_000);
  const completions = (id: string) =>
    s.receiver.got.filter(
      (r) => JSON.parse(r.body).type === 'build.completed' && JSON.parse(r.body).data.build.id === id,
    );

  it('three quick pushes with cancel-in-progress: the first two are canceled, the last succeeds', async () => {
    const a = await push('cancel', 0);
    await waitFor(async () => (await view(a)).status === 'running', 10_000, 'first build to run');
    const b = await push('cancel', 1);
    const c = await push('cancel', 2);
    const [va, vb, vc] = [await final(a), await final(b), await final(c)];
    assert.equal(va.status, 'canceled');
    assert.equal(va.superseded_by, b);
    assert.equal(vb.status, 'canceled');
    assert.equal(vb.superseded_by, c);
    assert.equal(vc.status, 'success');
    assert.equal(vc.sha, s.repo.commits[2]);
    for (const id of [a, b, c]) {
      await waitFor(() => completions(id).length === 1, 10_000, `build.completed of ${id}`);
      assert.equal(completions(id).length, 1);
    }
    assert.equal(JSON.parse(completions(a)[0]!.body).data.build.superseded_by, b);
  });

  it('without cancel-in-progress the running build finishes, a queued one is superseded, the newest waits', async () => {
    const a = await push('queue', 0);
    await waitFor(async () => (await view(a)).status === 'running', 10_000, 'first build to run');
    const b = await push('queue', 1);
    const c = await push('queue', 2);
    const [va, vb, vc] = [await final(a), await final(b), await final(c)];
    assert.equal(va.status, 'success');
    assert.equal(vb.status, 'canceled');
    assert.equal(vb.superseded_by, c);
    assert.equal(vc.status, 'success');
    assert.ok(
      Date.parse(vc.started_at!) >= Date.parse(va.finished_at!),
      'the newest build waited for the running one',
    );
  });

  it('concurrency.max caps running jobs of a pipeline across workers', async () => {
    const ids = [await push('capped', 0), await push('capped', 1), await push('capped', 2)];
    const views = await Promise.all(ids.map(final));
    for (const v of views) assert.equal(v.status, 'success');
    const spans = views
      .map((v) => [Date.parse(v.jobs[0]!.started_at!), Date.parse(v.jobs[0]!.finished_at!)] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < spans.length; i++)
      assert.ok(spans[i]![0] >= spans[i - 1]![1], `job ${i} overlapped the one before`);
  });
});
