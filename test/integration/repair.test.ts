import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { queueJobId } from '../../src/queue/queued-job.ts';
import type { BuildView } from '../../src/model.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('repairing what a crashed process left half done', () => {
  const s = suiteServer({
    receiver: true,
    pipelines: (repo, receiver) => ({
      'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  a:\n    steps:\n      - run: 'true'\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 's', CB: whsec() },
    stack: true,
  });
  const push = async () =>
    (
      await sendGithub(
        s.server.base,
        githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
        's',
      )
    ).json.builds[0].id as string;
  const view = async (id: string) => (await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView;
  const completed = (id: string) => s.receiver.got.filter((m) => JSON.parse(m.body).data.build.id === id);

  it('sends the build.completed a process died before sending, exactly once', async () => {
    const id = await push();
    await waitFor(() => completed(id).length === 1, 20_000, 'build.completed');
    // As if complete() won its compare-and-set and the process died before announcing it.
    const msg = `msg_${id}_build.completed_0`;
    await waitFor(
      async () => (await s.stack.deliveries.getJobState(msg)) === 'completed',
      10_000,
      'the first delivery to finish',
    );
    await s.stack.deliveries.remove(msg);
    await s.conn.multi().hdel(s.stack.keys.build(id), 'notified').zadd(s.stack.keys.active, 0, id).exec();
    assert.deepEqual(await s.stack.lifecycle.repair(id), [{ kind: 'sent_build_completed' }]);
    await waitFor(() => completed(id).length === 2, 10_000, 'the repaired build.completed');
    assert.equal(
      completed(id)[1]!.headers['webhook-id'],
      completed(id)[0]!.headers['webhook-id'],
      'same message id: receivers de-duplicate',
    );
    assert.deepEqual(await s.stack.lifecycle.repair(id), [], 'nothing left to repair');
    assert.equal(await s.conn.zscore(s.stack.keys.active, id), null);
  });

  it('re-queues a job whose queue entry was lost', async () => {
    await s.stack.jobs.pause();
    try {
      const id = await push();
      await s.stack.jobs.remove(queueJobId(id, 'a'));
      assert.equal((await view(id)).jobs[0]!.status, 'queued');
      assert.deepEqual(await s.stack.lifecycle.repair(id), [{ kind: 'requeued_job', job: 'a' }]);
      await s.stack.jobs.resume();
      const v = await waitFor(
        async () => ((b) => (b.status === 'success' ? b : null))(await view(id)),
        20_000,
        'the build to run',
      );
      assert.equal(v.jobs[0]!.attempt, 1);
    } finally {
      await s.stack.jobs.resume();
    }
  });
});
