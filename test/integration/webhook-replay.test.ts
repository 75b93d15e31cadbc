import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { githubPush, githubSignature, gitlabPush, post, type Sent } from '../helpers/payloads.ts';
import { suiteReceiver } from '../helpers/suite-receiver.ts';

const SECRET = 'gh-secret-' + randomUUID();
const TOKEN = 'gl-token-' + randomUUID();
const BITBUCKET = 'bb-secret-' + randomUUID();
const SHA = 'a'.repeat(40);

/** A captured signed push body, sent as is; only the delivery id header is the sender's to choose. */
function sendSigned(base: string, body: string, delivery: string): Promise<Sent> {
  return post(`${base}/webhooks/github`, body, {
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': githubSignature(body, SECRET),
  });
}

const ids = (r: Sent) => (r.json.builds as Array<{ id: string }>).map((b) => b.id);

describe('a captured signed webhook replayed with a new delivery id', () => {
  const pipeline = (repository: string) =>
    `repository: ${repository}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`;
  const s = suiteReceiver(
    {
      'gh.yml': pipeline('octo-org/web'),
      'gl.yml': `name: gl\n${pipeline('group/app')}`,
      'bb.yml': `name: bb\n${pipeline('team_name/repo_name')}`,
    },
    { GITHUB_WEBHOOK_SECRET: SECRET, GITLAB_WEBHOOK_TOKEN: TOKEN, BITBUCKET_WEBHOOK_SECRET: BITBUCKET },
  );
  const builds = () => s.builds();

  it('creates no second build, answers like a duplicate, and the forge redelivery still works', async () => {
    const body = JSON.stringify(githubPush({ before: SHA, after: 'b'.repeat(40) }));
    const start = await builds();
    const first = await sendSigned(s.server.base, body, randomUUID());
    assert.equal(first.status, 202, first.text);
    assert.equal(first.json.builds.length, 1);

    const replay = await sendSigned(s.server.base, body, randomUUID());
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.json.duplicate, true);
    assert.deepEqual(ids(replay), ids(first));
    assert.match(replay.json.reason, /already received/);
    assert.equal(await builds(), start + 1, 'the replay stored a second build');

    // A replay leaves no record under its own id: a second copy of it is still a replay.
    const again = await sendSigned(s.server.base, body, randomUUID());
    assert.equal(again.status, 200);
    assert.deepEqual(ids(again), ids(first));
    assert.equal(await builds(), start + 1);
  });

  it("keeps GitHub's Redeliver (same id, same body) answered as a duplicate delivery", async () => {
    const body = JSON.stringify(githubPush({ before: SHA, after: 'c'.repeat(40) }));
    const delivery = randomUUID();
    const start = await builds();
    const first = await sendSigned(s.server.base, body, delivery);
    assert.equal(first.status, 202, first.text);
    const redelivery = await sendSigned(s.server.base, body, delivery);
    assert.equal(redelivery.status, 200, redelivery.text);
    assert.equal(redelivery.json.duplicate, true);
    assert.deepEqual(ids(redelivery), ids(first));
    assert.match(redelivery.json.reason, new RegExp(`delivery ${delivery} was already received`));
    assert.equal(await builds(), start + 1);
    assert.equal(redelivery.json.builds[0].status, 'queued');

    // A redelivery after the build moved on is told where it is now, not where it was at first.
    const cancel = await s.server.api(`/api/builds/${ids(first)[0]}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 202, await cancel.text());
    const later = await sendSigned(s.server.base, body, delivery);
    assert.equal(later.status, 200, later.text);
    assert.deepEqual(ids(later), ids(first));
    assert.equal(later.json.builds[0].status, 'canceled');
  });

  it('lets only one of many concurrent replays create, each answered with that build', async () => {
    const body = JSON.stringify(githubPush({ before: SHA, after: 'd'.repeat(40) }));
    const start = await builds();
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => sendSigned(s.server.base, body, randomUUID())),
    );
    const created = answers.filter((a) => a.status === 202);
    assert.equal(created.length, 1, answers.map((a) => `${a.status} ${a.text}`).join('\n'));
    for (const a of answers) {
      if (a.status === 202) continue;
      assert.equal(a.status, 200, a.text);
      assert.equal(a.json.duplicate, true);
      assert.deepEqual(ids(a), ids(created[0]!));
    }
    assert.equal(await builds(), start + 1);
  });

  it('still builds two pushes of one commit to two branches (control)', async () => {
    const after = 'e'.repeat(40);
    const start = await builds();
    const main = await sendSigned(
      s.server.base,
      JSON.stringify(githubPush({ ref: 'refs/heads/main', before: SHA, after })),
      randomUUID(),
    );
    const dev = await sendSigned(
      s.server.base,
      JSON.stringify(githubPush({ ref: 'refs/heads/dev', before: SHA, after })),
      randomUUID(),
    );
    assert.equal(main.status, 202, main.text);
    assert.equal(dev.status, 202, dev.text);
    assert.notDeepEqual(ids(main), ids(dev));
    assert.equal(await builds(), start + 2);
  });

  // GitLab's and Bitbucket's bodies name no push time: the same bytes again can be a real push, which
  // must build (GitLab's token is sent with every request anyway; a captured one can forge any body).
  it('still builds a GitLab tag deleted and pushed again on the same commit (control)', async () => {
    const body = JSON.stringify(
      gitlabPush({ ref: 'refs/tags/v1', before: '0'.repeat(40), after: 'f'.repeat(40), repo: 'group/app' }),
    );
    const send = () =>
      post(`${s.server.base}/webhooks/gitlab`, body, {
        'x-gitlab-event': 'Tag Push Hook',
        'x-gitlab-token': TOKEN,
        'x-gitlab-event-uuid': randomUUID(),
      });
    const start = await builds();
    const first = await send();
    assert.equal(first.status, 202, first.text);
    const again = await send();
    assert.equal(again.status, 202, again.text);
    assert.notDeepEqual(ids(again), ids(first));
    assert.equal(await builds(), start + 2);
  });

  it('still builds a Bitbucket branch moved between the same two commits again (control)', async () => {
    const fixture = JSON.parse(
      readFileSync(join(import.meta.dirname, '../fixtures/bitbucket/push.json'), 'utf8'),
    );
    fixture.push.changes = [fixture.push.changes[0]];
    fixture.push.changes[0].old.target.hash = SHA;
    fixture.push.changes[0].new.target.hash = 'b'.repeat(40);
    const body = JSON.stringify(fixture);
    const send = () =>
      post(`${s.server.base}/webhooks/bitbucket`, body, {
        'x-event-key': 'repo:push',
        'x-request-uuid': randomUUID(),
        'x-hub-signature': `sha256=${createHmac('sha256', BITBUCKET).update(body).digest('hex')}`,
      });
    const start = await builds();
    const first = await send();
    assert.equal(first.status, 202, first.text);
    const again = await send();
    assert.equal(again.status, 202, again.text);
    assert.equal(await builds(), start + 2);
  });

  it('forgets a body after PUSHCI_REPLAY_WINDOW (the key expires with it)', async () => {
    const keys = await s.client.keys(`${s.redis.prefix}:seen-body:*`);
    assert.ok(keys.length >= 4, keys.join(' '));
    assert.ok(
      keys.every((k) => k.includes(':github:')),
      `only GitHub bodies are remembered: ${keys.join(' ')}`,
    );
    const window = s.server.config.replayWindowMs;
    assert.equal(window, 7 * 86_400_000);
    for (const k of keys) {
      const ttl = await s.client.pttl(k);
      assert.ok(ttl > window - 60_000 && ttl <= window, `${k}: ${ttl}`);
    }
  });
});
