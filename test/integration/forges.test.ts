import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { buildEnded } from '../helpers/push-build.ts';
import { post, sendGithub, githubPush, whsec } from '../helpers/payloads.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const FIX = join(import.meta.dirname, '../fixtures');
const fixture = (path: string) => JSON.parse(readFileSync(join(FIX, path), 'utf8')) as Record<string, any>;
const hex = (body: string, secret: string) => createHmac('sha256', secret).update(body).digest('hex');
const SIGNING = whsec();

describe('forges: GitLab (signed), Gitea, Forgejo, Bitbucket', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    pipelines: (repo) => {
      const p = (name: string, repository: string, forge: string) =>
        `name: ${name}\nrepository: ${repository}\nforge: ${forge}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: test "$CI_FORGE" = ${forge}\n`;
      return {
        'gl.yml': p('gl', 'mike/diaspora', 'gitlab'),
        'gitea.yml': p('gitea', 'gitea/webhooks', 'gitea'),
        'forgejo.yml': p('forgejo', 'forgejo/webhooks', 'forgejo'),
        'bb.yml': p('bb', 'team_name/repo_name', 'bitbucket'),
      };
    },
    env: {
      GITLAB_WEBHOOK_TOKEN: 'gl-token',
      GITLAB_WEBHOOK_SIGNING_TOKEN: SIGNING,
      GITEA_WEBHOOK_SECRET: 'gitea-secret',
      FORGEJO_WEBHOOK_SECRET: 'forgejo-secret',
      BITBUCKET_WEBHOOK_SECRET: 'bb-secret',
    },
  });

  const final = (id: string) => buildEnded(s.server, id, 30_000);

  const gitlabBody = () => {
    const p = fixture('gitlab/push.json');
    p.before = s.repo.commits[0];
    p.after = p.checkout_sha = s.repo.commits[1];
    p.commits.at(-1).id = s.repo.commits[1];
    return JSON.stringify(p);
  };
  const gitlabHeaders = (body: string, when = new Date(), secret = SIGNING) => {
    const id = `msg_${randomUUID()}`;
    return {
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': 'gl-token',
      'idempotency-key': randomUUID(),
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(when.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, when, body),
    };
  };

  it('GitLab: the documented push payload, with a signing token and the plain token', async () => {
    const body = gitlabBody();
    const res = await post(`${s.server.base}/webhooks/gitlab`, body, gitlabHeaders(body));
    assert.equal(res.status, 202, res.text);
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'success');
    assert.equal(v.forge, 'gitlab');
    assert.equal(v.branch, 'master');
    assert.equal(v.message, 'fixed readme');
    assert.equal(v.pusher, 'jsmith');
  });

  it('GitLab: refuses missing, wrong and stale signatures when a signing token is set', async () => {
    const body = gitlabBody();
    const { 'webhook-signature': _s, ...unsigned } = gitlabHeaders(body);
    const cases: Array<[string, Record<string, string>, string]> = [
      ['unsigned', unsigned, 'signature_missing'],
      ['other secret', gitlabHeaders(body, new Date(), whsec()), 'signature_mismatch'],
      ['10 minutes old', gitlabHeaders(body, new Date(Date.now() - 10 * 60_000)), 'signature_mismatch'],
      ['signed, wrong token', { ...gitlabHeaders(body), 'x-gitlab-token': 'nope' }, 'signature_mismatch'],
    ];
    for (const [name, headers, code] of cases) {
      const r = await post(`${s.server.base}/webhooks/gitlab`, body, headers);
      assert.equal(r.status, 401, name);
      assert.equal(r.json.error, code, name);
    }
  });

  for (const forge of ['gitea', 'forgejo'] as const) {
    it(`${forge}: the documented push payload, hex HMAC signature`, async () => {
      const p = fixture(`${forge}/push.json`);
      p.before = s.repo.commits[0];
      p.after = p.head_commit.id = s.repo.commits[1];
      const body = JSON.stringify(p);
      const h = forge === 'gitea' ? 'x-gitea' : 'x-forgejo';
      const headers = {
        [`${h}-event`]: 'push',
        [`${h}-delivery`]: randomUUID(),
        [`${h}-signature`]: hex(body, `${forge}-secret`),
      };
      const res = await post(`${s.server.base}/webhooks/${forge}`, body, headers);
      assert.equal(res.status, 202, res.text);
      const v = await final(res.json.builds[0].id);
      assert.equal(v.status, 'success');
      assert.equal(v.forge, forge);
      assert.equal(v.branch, 'develop');
      assert.equal(v.message, 'Webhooks Yay!');
      const bad = await post(`${s.server.base}/webhooks/${forge}`, body, {
        ...headers,
        [`${h}-signature`]: hex(body, 'wrong'),
      });
      assert.equal(bad.status, 401);
      const other = await post(`${s.server.base}/webhooks/${forge}`, body, {
        ...headers,
        [`${h}-event`]: 'issues',
        [`${h}-delivery`]: randomUUID(),
      });
      assert.equal(other.status, 202);
      assert.equal(other.json.reason, 'ignored: issues');
    });
  }

  it('Bitbucket: several refs in one delivery make one build per ref; a closed branch makes none', async () => {
    const p = fixture('bitbucket/push.json');
    p.push.changes[0].old.target.hash = s.repo.commits[0];
    p.push.changes[0].new.target.hash = s.repo.commits[1];
    p.push.changes[1].new.target.hash = s.repo.commits[1];
    p.push.changes.push({
      new: null,
      old: { type: 'branch', name: 'gone', target: { hash: s.repo.commits[0] } },
      closed: true,
    });
    const body = JSON.stringify(p);
    const headers = {
      'x-event-key': 'repo:push',
      'x-request-uuid': randomUUID(),
      'x-hub-signature': `sha256=${hex(body, 'bb-secret')}`,
    };
    const res = await post(`${s.server.base}/webhooks/bitbucket`, body, headers);
    assert.equal(res.status, 202, res.text);
    assert.equal(res.json.builds.length, 2);
    const views = await Promise.all(res.json.builds.map((b: { id: string }) => final(b.id)));
    assert.deepEqual(views.map((v) => [v.branch, v.tag, v.status]).sort(), [
      [null, 'v1.0.0', 'success'],
      ['name-of-branch', null, 'success'],
    ]);
    const bad = await post(`${s.server.base}/webhooks/bitbucket`, body, {
      ...headers,
      'x-hub-signature': `sha256=${hex(body, 'x')}`,
    });
    assert.equal(bad.status, 401);
    const ping = await post(`${s.server.base}/webhooks/bitbucket`, '{}', {
      'x-event-key': 'diagnostics:ping',
      'x-request-uuid': randomUUID(),
      'x-hub-signature': `sha256=${hex('{}', 'bb-secret')}`,
    });
    assert.equal(ping.status, 200);
  });
});

describe('exactly-once intake and limits', () => {
  const s = suiteServer({
    pipelines: (repo) => ({
      'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_RATE_LIMIT: '30' },
  });

  it('answers a redelivery with the first builds and creates nothing', async () => {
    const payload = githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! });
    const delivery = randomUUID();
    const first = await sendGithub(s.server.base, payload, 's', { 'x-github-delivery': delivery });
    assert.equal(first.status, 202);
    const again = await sendGithub(s.server.base, payload, 's', { 'x-github-delivery': delivery });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.json.duplicate, true);
    // The same builds, numbers included (the answer's fields as the first one's).
    const brief = (b: { id: string; number: number; url: string }) => [b.id, b.number, b.url];
    assert.deepEqual(again.json.builds.map(brief), first.json.builds.map(brief));
    assert.equal(typeof again.json.builds[0].number, 'number');
    assert.match(again.json.reason, /already received/);
    // The same signed bytes under another delivery id are a replay (test/integration/webhook-replay.test.ts).
    const replay = await sendGithub(s.server.base, payload, 's');
    assert.equal(replay.status, 200, replay.text);
    const other = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
      's',
    );
    assert.equal(other.status, 202, 'another push of the same commit builds again');
  });

  it('limits webhooks per source and minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++)
      statuses.push(
        (await post(`${s.server.base}/webhooks/github`, '{}', { 'x-github-event': 'push' })).status,
      );
    assert.ok(statuses.includes(429), String(statuses));
    const r = await fetch(`${s.server.base}/webhooks/github`, { method: 'POST', body: '{}' });
    assert.equal(r.status, 429);
    assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
  });
});
