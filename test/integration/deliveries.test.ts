import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { payloadValidator } from '../helpers/openapi.ts';
import { gitlabPush, post, sendGitlab, whsec } from '../helpers/payloads.ts';
import { pushBuild } from '../helpers/push-build.ts';
import { startReceiver, waitFor, type Received } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});

/** A fake forge API that records what it receives. */
async function fakeApi() {
  const got: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: any }> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      got.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: JSON.parse(text || 'null'),
      });
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":1}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('outbound deliveries', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  const secret = whsec();
  const rotated = [whsec(), whsec()];
  const globalSecret = whsec();
  const r: Record<string, Receiver> = {};
  let github: Awaited<ReturnType<typeof fakeApi>>;
  let gitlab: Awaited<ReturnType<typeof fakeApi>>;
  let validator: Awaited<ReturnType<typeof payloadValidator>>;
  const hanging: Array<() => void> = [];
  let muteUrl = '';

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    r.flaky = await startReceiver((_m, n) => (n <= 2 ? 500 : 200));
    r.gone = await startReceiver(() => 410);
    r.slow = await startReceiver((_m, n) =>
      n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : 200,
    );
    r.redirect = await startReceiver(() => ({
      status: 302,
      headers: { location: 'http://127.0.0.1:1/elsewhere' },
    }));
    r.rotation = await startReceiver();
    r.global = await startReceiver();
    r.filtered = await startReceiver();
    github = await fakeApi();
    gitlab = await fakeApi();
    const mute = createServer((req) => hanging.push(() => req.socket.destroy()));
    await new Promise<void>((res) => mute.listen(0, '127.0.0.1', res));
    hanging.push(() => mute.close());
    muteUrl = `http://127.0.0.1:${(mute.address() as AddressInfo).port}/hook`;
    const p = (name: string, notify: string, extra = '', repoName = `octo-org/${name}`) =>
      `name: ${name}\nrepository: ${repoName}\nclone-url: ${repo.dir}\non: push\n${extra}jobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n${notify}`;
    const one = (url: string, more = '') => `  - url: ${url}\n    secret: \${{ env.CB }}\n${more}`;
    server = await startServer(
      redis,
      {
        'flaky.yml': p('flaky', one(r.flaky.url, '    events: [build.completed]\n')),
        'gone.yml': p('gone', one(r.gone.url, '    events: [build.completed]\n')),
        'slow.yml': p('slow', one(r.slow.url, '    events: [build.completed]\n')),
        'redirect.yml': p('redirect', one(r.redirect.url, '    events: [build.completed]\n')),
        'mute.yml': p('mute', one(muteUrl, '    events: [build.completed]\n')),
        'rotation.yml': p(
          'rotation',
          `  - url: ${r.rotation.url}\n    secret: ['\${{ env.OLD }}', '\${{ env.NEW }}']\n    events: [build.queued, build.started, build.completed, job.completed]\n`,
        ),
        'filtered.yml': p(
          'filtered',
          one(r.filtered.url, '    events: [build.completed]\n    branches: [main]\n'),
        ),
        'ghstatus.yml': p(
          'ghstatus',
          one(r.filtered.url, '    events: [job.completed]\n'),
          'commit-status: true\n',
        ),
        'glstatus.yml': p(
          'glstatus',
          one(r.filtered.url, '    events: [job.completed]\n'),
          "commit-status: { context: 'ci/pushci' }\nforge: gitlab\n",
          'group/app',
        ),
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        GITLAB_WEBHOOK_TOKEN: 't',
        CB: secret,
        OLD: rotated[0]!,
        NEW: rotated[1]!,
        PUSHCI_NOTIFY_URLS: r.global.url,
        PUSHCI_NOTIFY_SECRET: globalSecret,
        PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,1500ms,1500ms,1500ms',
        PUSHCI_NOTIFY_TIMEOUT_MS: '400',
        GITHUB_TOKEN: 'ghp_test',
        GITLAB_TOKEN: 'glpat-test',
        PUSHCI_GITHUB_API_URL: github.url,
        PUSHCI_GITLAB_API_URL: `${gitlab.url}/api/v4`,
        PUSHCI_API_TOKEN: 'tok',
      },
    );
    validator = await payloadValidator(server.base);
  });
  after(async () => {
    for (const h of hanging) h();
    await server?.close();
    for (const x of Object.values(r)) await x.close();
    await github?.close();
    await gitlab?.close();
    await redis?.stop();
  });

  const auth = { authorization: 'Bearer tok' };
  const push = (name: string, branch = 'main') =>
    pushBuild(server, { name, sha: repo.commits[0]!, secret: 's', ref: `refs/heads/${branch}` });
  /** The build's deliveries to one receiver (the global endpoint gets every build too). */
  const deliveries = async (build: string, to?: string) =>
    (
      (await (await fetch(`${server.base}/api/deliveries?build=${build}`, { headers: auth })).json()) as {
        deliveries: any[];
      }
    ).deliveries.filter((d) => to === undefined || d.target === to);

  it('retries a receiver that is down, with the same webhook-id and a fresh signature each time', async () => {
    const id = await push('flaky');
    await waitFor(() => r.flaky!.got.length >= 3, 15_000, 'three attempts');
    const wh = new Webhook(secret);
    const ids = new Set(r.flaky!.got.map((m) => m.headers['webhook-id']));
    assert.equal(ids.size, 1);
    for (const m of r.flaky!.got) wh.verify(m.body, headersOf(m));
    const stamps = r.flaky!.got.map((m) => Number(m.headers['webhook-timestamp']));
    assert.ok(stamps[2]! > stamps[0]!, 'each attempt is signed with its own timestamp');
    await new Promise((res) => setTimeout(res, 2000));
    assert.equal(r.flaky!.got.length, 3, 'delivered once, then no more attempts');
    const [d] = await deliveries(id, r.flaky!.url);
    assert.equal(d.state, 'delivered');
    const build = (await (await fetch(`${server.base}/api/builds/${id}`, { headers: auth })).json()) as any;
    assert.deepEqual([d.build_id, d.build_number], [id, build.number]);
    assert.deepEqual(
      d.attempt_log.map((a: any) => a.status),
      [500, 500, 200],
    );
    assert.equal(d.attempt_log[0].body, 'ok');
    for (const m of r.flaky!.got) validator.check(m.body);
  });

  it('disables an endpoint that answers 410 Gone, until it is enabled again', async () => {
    const first = await push('gone');
    await waitFor(
      async () => (await deliveries(first, r.gone!.url))[0]?.state === 'failed',
      10_000,
      'the 410',
    );
    const [d] = await deliveries(first, r.gone!.url);
    assert.equal(d.attempts, 1);
    assert.match(d.attempt_log[0].error, /410 Gone; endpoint disabled/);
    const second = await push('gone');
    await waitFor(
      async () => (await deliveries(second, r.gone!.url))[0]?.state === 'failed',
      10_000,
      'the refusal',
    );
    assert.equal(r.gone!.got.length, 1, 'a disabled endpoint gets nothing');
    assert.match((await deliveries(second, r.gone!.url))[0].attempt_log[0].error, /disabled/);
    const en = await post(`${server.base}/api/endpoints/${d.endpoint_id}/enable`, '', auth);
    assert.equal(en.status, 200, en.text);
    const again = await post(
      `${server.base}/api/deliveries/${(await deliveries(second, r.gone!.url))[0].id}/redeliver`,
      '',
      auth,
    );
    assert.equal(again.status, 202, again.text);
    await waitFor(() => r.gone!.got.length === 2, 10_000, 'the redelivery');
    assert.equal(r.gone!.got[1]!.headers['webhook-id'], (await deliveries(second, r.gone!.url))[0].id);
  });

  it('waits as long as Retry-After says after a 429', async () => {
    await push('slow');
    await waitFor(() => r.slow!.got.length === 2, 15_000, 'the second attempt');
    const gap = r.slow!.got[1]!.at - r.slow!.got[0]!.at;
    assert.ok(gap >= 1900, `second attempt after ${gap} ms, Retry-After said 2 s`);
  });

  it('does not follow redirects, and gives up on a receiver that never answers', async () => {
    const id = await push('redirect');
    await waitFor(
      async () => (await deliveries(id, r.redirect!.url))[0]?.attempts >= 1,
      10_000,
      'an attempt',
    );
    assert.equal((await deliveries(id, r.redirect!.url))[0].attempt_log[0].status, 302);
    assert.equal((await deliveries(id, r.redirect!.url))[0].state, 'retrying');
    const muteId = await push('mute');
    await waitFor(async () => (await deliveries(muteId, muteUrl))[0]?.attempts >= 1, 10_000, 'an attempt');
    assert.match((await deliveries(muteId, muteUrl))[0].attempt_log[0].error, /no answer within 400 ms/);
  });

  it('signs with both secrets during a rotation, and sends job.completed too', async () => {
    await push('rotation');
    await waitFor(() => r.rotation!.got.length === 4, 15_000, 'four events');
    for (const key of rotated) {
      const wh = new Webhook(key);
      for (const m of r.rotation!.got) wh.verify(m.body, headersOf(m));
    }
    assert.equal(r.rotation!.got[0]!.headers['webhook-signature']!.toString().split(' ').length, 2);
    assert.deepEqual(r.rotation!.types().sort(), [
      'build.completed',
      'build.queued',
      'build.started',
      'job.completed',
    ]);
    for (const m of r.rotation!.got) validator.check(m.body);
    const job = r.rotation!.got.map((m) => JSON.parse(m.body)).find((m) => m.type === 'job.completed');
    assert.equal(job.data.job.name, 'j');
    assert.equal(job.data.job.status, 'success');
  });

  it('sends every build to the global endpoints, and honours branch filters', async () => {
    const main = await push('filtered', 'main');
    const dev = await push('filtered', 'develop');
    await waitFor(
      () => r.global!.got.filter((m) => [main, dev].includes(JSON.parse(m.body).data.build?.id)).length === 6,
      15_000,
      'global events',
    );
    const wh = new Webhook(globalSecret);
    for (const m of r.global!.got) wh.verify(m.body, headersOf(m));
    await waitFor(
      () => r.filtered!.got.some((m) => JSON.parse(m.body).data.build.id === main),
      10_000,
      'main build',
    );
    await new Promise((res) => setTimeout(res, 500));
    assert.ok(
      !r.filtered!.got.some((m) => JSON.parse(m.body).data.build.id === dev),
      'develop is filtered out',
    );
  });

  it('reports GitHub commit statuses', async () => {
    const id = await push('ghstatus');
    await waitFor(
      () => github.got.filter((g) => g.body.target_url.endsWith(id)).length === 3,
      15_000,
      'three statuses',
    );
    const calls = github.got.filter((g) => g.body.target_url.endsWith(id));
    for (const c of calls) {
      assert.equal(c.method, 'POST');
      assert.equal(c.url, `/repos/octo-org/ghstatus/statuses/${repo.commits[0]}`);
      assert.equal(c.headers.authorization, 'Bearer ghp_test');
      assert.equal(c.headers.accept, 'application/vnd.github+json');
      assert.equal(c.headers['x-github-api-version'], '2022-11-28');
      assert.equal(c.body.context, 'pushci/ghstatus');
      assert.ok(c.body.description.length <= 140);
    }
    assert.deepEqual(calls.map((c) => c.body.state).sort(), ['pending', 'pending', 'success']);
  });

  it('reports GitLab commit statuses', async () => {
    const res = await sendGitlab(
      server.base,
      gitlabPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: 'group/app' }),
      't',
    );
    const id = res.json.builds[0].id as string;
    await waitFor(
      () => gitlab.got.filter((g) => g.body.target_url.endsWith(id)).length === 3,
      15_000,
      'three statuses',
    );
    const calls = gitlab.got.filter((g) => g.body.target_url.endsWith(id));
    for (const c of calls) {
      assert.equal(c.method, 'POST');
      assert.equal(c.url, `/api/v4/projects/group%2Fapp/statuses/${repo.commits[0]}`);
      assert.equal(c.headers['private-token'], 'glpat-test');
      assert.equal(c.body.name, 'ci/pushci');
      assert.equal(c.body.ref, 'main');
    }
    assert.deepEqual(calls.map((c) => c.body.state).sort(), ['pending', 'running', 'success']);
  });

  it('publishes an OpenAPI 3.1 document with paths and webhooks', () => {
    assert.equal(validator.doc.openapi, '3.1.0');
    for (const p of [
      '/webhooks/github',
      '/webhooks/gitlab',
      '/api/builds',
      '/api/builds/{id}',
      '/api/events',
      '/api/pipelines',
      '/api/deliveries',
      '/metrics',
      '/badge/{pipeline}.svg',
    ]) {
      assert.ok(validator.doc.paths[p], p);
    }
    assert.deepEqual(Object.keys(validator.doc.webhooks).sort(), [
      'build.completed',
      'build.queued',
      'build.started',
      'endpoint.disabled',
      'job.completed',
    ]);
  });
});
