import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildEnded } from '../helpers/push-build.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { post } from '../helpers/payloads.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FIX = join(import.meta.dirname, '../fixtures');

/**
 * GitLab's merge request hook names the head commit but not the target's: path filters must still judge
 * the whole change (merge base to head), which pushci measures against the target branch fetched from
 * the pipeline's own clone URL, as GitLab's own merge request diff does.
 */
describe('GitLab merge request path filters', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  /** Merge request number → head commit. */
  const heads = new Map<number, string>();

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'base\n' }]);
    const fork = repo.commits[0]!;
    // !1: changes src/ and then docs/; its head commit alone touches only docs/.
    repo.git('checkout', '-q', '-b', 'mixed');
    repo.commit({ 'src/x.txt': 'code\n' }, 'code');
    heads.set(1, repo.commit({ 'docs/x.md': 'docs\n' }, 'docs'));
    // !2: only docs/, from a fork point after which main changed src/.
    repo.git('checkout', '-q', '-b', 'docs-only', fork);
    heads.set(2, repo.commit({ 'docs/y.md': 'docs\n' }, 'docs only'));
    repo.git('checkout', '-q', 'main');
    repo.commit({ 'src/main.txt': 'main moved on\n' }, 'main moved on');
    for (const [n, sha] of heads) repo.git('update-ref', `refs/merge-requests/${n}/head`, sha);
    server = await startServer(
      redis,
      {
        'mr.yml': `name: mr\nrepository: gitlabhq/gitlab-test\nclone-url: ${repo.dir}\non:\n  pull_request:\n    paths: ['src/**']\njobs:\n  build:\n    steps:\n      - run: 'true'\n`,
      },
      { GITLAB_WEBHOOK_TOKEN: 'gl' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  const send = async (iid: number) => {
    const mr = JSON.parse(readFileSync(join(FIX, 'gitlab/merge-request.json'), 'utf8'));
    mr.object_attributes.iid = iid;
    mr.object_attributes.target_branch = 'main';
    mr.object_attributes.last_commit.id = heads.get(iid);
    const res = await post(`${server.base}/webhooks/gitlab`, JSON.stringify(mr), {
      'x-gitlab-event': 'Merge Request Hook',
      'x-gitlab-token': 'gl',
      'x-gitlab-event-uuid': randomUUID(),
    });
    assert.equal(res.status, 202, res.text);
    return res.json.builds[0].id as string;
  };
  const final = (id: string) => buildEnded(server, id, 60_000);

  it('builds a merge request whose earlier commit changed a filtered path, though its head did not', async () => {
    const v = await final(await send(1));
    assert.equal(v.status, 'success', v.reason ?? '');
  });

  it('skips a merge request that changed no filtered path, although its target branch did since', async () => {
    const v = await final(await send(2));
    assert.equal(v.status, 'skipped');
    assert.match(v.reason ?? '', /no changed file matches the path filters \(1 files changed\)/);
  });
});
