import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { githubPush, post, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const JOB = 'jobs:\n  hello:\n    steps:\n      - run: echo hello\n';

describe('the "why" record of every received webhook', () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    pipelines: (repo) => {
      const head = (name: string, on: string) =>
        `name: ${name}\nrepository: octo-org/web\nclone-url: ${repo.dir}\non:\n${on}\n${JOB}`;
      return {
        'main.yml': head('main-only', '  push:\n    branches: [main]'),
        'tags.yml': head('releases', "  push:\n    tags: ['v*']"),
        'docs.yml': head('docs', "  push:\n    branches: [main]\n    paths: ['docs/**']"),
        'api.yml': `name: api\nrepository: octo-org/api\nclone-url: ${repo.dir}\non: push\n${JOB}`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_WEBHOOK_LOG_MAX: '5' },
  });
  const records = async () =>
    ((await (await s.server.api('/api/webhooks')).json()) as { webhooks: any[] }).webhooks;
  const pushTo = (ref: string, message = 'change') =>
    sendGithub(
      s.server.base,
      githubPush({
        ref,
        before: s.repo.commits[0]!,
        after: s.repo.commits[1]!,
        repo: 'octo-org/web',
        message,
      }),
      's',
    );
  const latest = async (delivery: string) =>
    waitFor(
      async () => (await records()).find((r) => r.delivery_id === delivery),
      5000,
      `the record of ${delivery}`,
    );
  const whyOf = (r: any) =>
    Object.fromEntries(r.pipelines.map((p: any) => [p.pipeline, [p.matched, p.reason]]));

  it('says which pipelines a push started and why the others did not', async () => {
    const sent = await pushTo('refs/heads/main');
    assert.equal(sent.status, 202);
    const id = sent.json.builds.find((b: any) => b.pipeline === 'main-only').id;
    const r = await waitFor(
      async () => (await records()).find((x) => x.result === 'builds'),
      5000,
      'the record of the push',
    );
    assert.equal(r.forge, 'github');
    assert.equal(r.event, 'push');
    assert.equal(r.status, 202);
    assert.equal(r.result, 'builds');
    assert.equal(r.repository, 'octo-org/web');
    assert.deepEqual(r.refs, ['refs/heads/main']);
    const why = whyOf(r);
    assert.deepEqual(why['main-only'], [true, 'branch main matches']);
    assert.deepEqual(why.releases, [false, 'a branch push, but the pipeline filters only tags [v*]']);
    assert.equal(why.docs[0], true);
    assert.match(why.docs[1], /path filters paths \[docs\/\*\*\] are applied after checkout/);
    assert.deepEqual(why.api, [false, 'repository octo-org/web does not match octo-org/api']);
    assert.equal(r.pipelines.find((p: any) => p.pipeline === 'main-only').build_id, id);
    // The same record by its id (the X-Request-Id of the answer).
    const one = await (await s.server.api(`/api/webhooks/${r.id}`)).json();
    assert.deepEqual(one, r);
  });

  it('explains a push that matched nothing, a skip marker and an ignored event', async () => {
    const sent = await pushTo('refs/heads/feature/x');
    assert.equal(sent.status, 200);
    let r = (await records())[0];
    await waitFor(
      async () => ((r = (await records())[0]), r.refs[0] === 'refs/heads/feature/x'),
      5000,
      'record',
    );
    assert.equal(r.result, 'no_match');
    assert.match(r.reason, /no pipeline matches github octo-org\/web refs\/heads\/feature\/x/);
    assert.deepEqual(whyOf(r)['main-only'], [false, 'branch feature/x is not in branches [main]']);

    await pushTo('refs/heads/main', 'typo [skip ci]');
    await waitFor(
      async () => ((r = (await records())[0]), r.result === 'builds' && r !== null),
      5000,
      'record',
    );
    assert.match(
      whyOf(r)['main-only'][1],
      /the head commit says \[skip ci\]: the build is stored as skipped/,
    );

    const ignored = await sendGithub(s.server.base, { zen: 'x' }, 's', { 'x-github-event': 'issues' });
    assert.equal(ignored.status, 202);
    await waitFor(async () => ((r = (await records())[0]), r.event === 'issues'), 5000, 'record');
    assert.equal(r.result, 'ignored');
    assert.match(r.reason, /ignored: issues/);
  });

  it('records a bad signature without anything of its payload', async () => {
    const secretWord = 'a-payload-word-that-must-not-be-stored';
    const bad = await post(`${s.server.base}/webhooks/github`, JSON.stringify({ secretWord }), {
      'x-github-event': 'push',
      'x-github-delivery': 'bad-signature-delivery',
      'x-hub-signature-256': 'sha256=' + '0'.repeat(64),
    });
    assert.equal(bad.status, 401);
    const r = await latest('bad-signature-delivery');
    assert.equal(r.result, 'refused');
    assert.equal(r.status, 401);
    assert.deepEqual(r.pipelines, []);
    assert.equal(r.repository, null);
    assert.match(r.reason, /signature/i);
    const stored = JSON.stringify(await (await s.server.api(`/api/webhooks/${r.id}`)).json());
    assert.ok(!stored.includes(secretWord), 'nothing of the payload is kept');
  });

  it('keeps only the newest PUSHCI_WEBHOOK_LOG_MAX records, each expiring with the retention', async () => {
    for (let i = 0; i < 4; i++) await pushTo(`refs/heads/other-${i}`);
    await waitFor(
      async () => (await records())[0]?.refs[0] === 'refs/heads/other-3',
      5000,
      'the last record',
    );
    const all = await records();
    assert.equal(all.length, 5);
    assert.deepEqual(
      all.slice(0, 4).map((r) => r.refs[0]),
      ['refs/heads/other-3', 'refs/heads/other-2', 'refs/heads/other-1', 'refs/heads/other-0'],
    );
    const client = new Redis(s.redis.url);
    const ttl = await client.pttl(`${s.server.config.queuePrefix}:webhook:${all[0].id}`);
    await client.quit();
    assert.ok(ttl > 0 && ttl <= s.server.config.retentionMs, `expires (pttl ${ttl})`);
    // Paging: two at a time, newest first, no repeats.
    const p1 = (await (await s.server.api('/api/webhooks?limit=2')).json()) as {
      webhooks: any[];
      next: string;
    };
    const p2 = (await (await s.server.api(`/api/webhooks?limit=2&before=${p1.next}`)).json()) as {
      webhooks: any[];
    };
    assert.deepEqual(
      [...p1.webhooks, ...p2.webhooks].map((r) => r.refs[0]),
      all.slice(0, 4).map((r) => r.refs[0]),
    );
    assert.equal((await s.server.api('/api/webhooks?before=abc')).status, 400);
    assert.equal((await fetch(`${s.server.base}/api/webhooks`)).status, 401, 'the API needs the token');
  });
});
