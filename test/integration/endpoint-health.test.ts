import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { apiCall, registerEndpoint } from '../helpers/api.ts';
import { payloadValidator } from '../helpers/openapi.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { whsec } from '../helpers/payloads.ts';
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
const parsed = (m: Received) => JSON.parse(m.body) as { type: string; data: any };

const TOKEN = 'health-test-token';
const DAY = 86_400_000;

describe('endpoint health: disabling, the delivery log, redelivery and test events', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let offset = 0;
  const now = () => Date.now() + offset;
  const receivers: Receiver[] = [];
  const globalSecret = whsec();
  let global: Receiver;
  let legacy: Receiver;

  const receiver = async (respond?: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  };
  const api = (method: string, path: string, body?: unknown) =>
    apiCall(server.base, TOKEN, method, path, body);
  const register = (body: Record<string, unknown>) => registerEndpoint(server.base, TOKEN, body);
  const push = (name = 'web') => pushBuild(server, { name, sha: repo.commits[0]!, secret: 's' });
  const log = async (id: string, query = '') =>
    (await api('GET', `/api/endpoints/${id}/deliveries${query}`)).json.deliveries as any[];

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    global = await receiver();
    legacy = await receiver(() => 410);
    server = await startServer(
      redis,
      {
        'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
        'legacy.yml': `repository: octo-org/legacy\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: ${legacy.url}\n    secret: \${{ env.CB }}\n    events: [build.completed]\n`,
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        PUSHCI_API_TOKEN: TOKEN,
        PUSHCI_NOTIFY_URLS: global.url,
        PUSHCI_NOTIFY_SECRET: globalSecret,
        PUSHCI_NOTIFY_RETRY_SCHEDULE: '0,50ms,50ms',
        CB: whsec(),
      },
      { now },
    );
  });
  after(async () => {
    await server?.close();
    for (const r of receivers) await r.close();
    await redis?.stop();
  });

  const disabledEvents = () => global.got.filter((m) => parsed(m).type === 'endpoint.disabled');

  it('disables an endpoint that answers 410 Gone, tells the global endpoints, and sends it nothing more', async () => {
    const gone = await receiver(() => 410);
    const e = await register({ url: gone.url, events: ['build.completed'], description: 'old bot' });
    const first = await push();
    await waitFor(
      async () => (await api('GET', `/api/endpoints/${e.id}`)).json.state === 'disabled',
      10_000,
      'the endpoint to be disabled',
    );
    const view = (await api('GET', `/api/endpoints/${e.id}`)).json;
    assert.match(view.state_reason, /410 Gone/);
    const event = await waitFor(
      () => disabledEvents().find((m) => parsed(m).data.endpoint.id === e.id),
      10_000,
      'endpoint.disabled',
    );
    new Webhook(globalSecret).verify(event.body, headersOf(event));
    (await payloadValidator(server.base)).check(event.body);
    assert.equal(parsed(event).data.endpoint.description, 'old bot');
    assert.match(parsed(event).data.reason, /410/);
    assert.equal(gone.got.length, 1, 'one attempt, no retries after a 410');
    assert.equal((await log(e.id)).find((d) => d.build_id === first).state, 'failed');

    const second = await push();
    await waitFor(
      () =>
        global.got.find((m) => parsed(m).type === 'build.completed' && parsed(m).data.build.id === second),
      15_000,
      'the next build',
    );
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(gone.got.length, 1, 'a disabled endpoint is sent nothing');

    const resumed = await api('POST', `/api/endpoints/${e.id}/resume`, {});
    assert.equal(resumed.json.state, 'active');
    await push();
    await waitFor(() => gone.got.length === 2, 10_000, 'delivery after the resume');
  });

  it('tells the global endpoints when a pipeline notify endpoint answers 410, and marks it disabled', async () => {
    await push('legacy');
    const event = await waitFor(
      () => disabledEvents().find((m) => parsed(m).data.endpoint.url === legacy.url),
      15_000,
      'endpoint.disabled for the pipeline endpoint',
    );
    assert.match(parsed(event).data.endpoint.description, /pipeline legacy/);
    const listed = (await api('GET', '/api/endpoints?source=pipeline')).json.endpoints as any[];
    const mine = listed.find((e) => e.url === legacy.url);
    assert.equal(mine.state, 'disabled');
    assert.equal(mine.id, parsed(event).data.endpoint.id);
  });

  it('disables an endpoint that has failed for PUSHCI_ENDPOINT_DISABLE_AFTER (5 days) without a success', async () => {
    let healthy = false;
    const flaky = await receiver(() => (healthy ? 200 : 500));
    const e = await register({ url: flaky.url, events: ['build.completed'] });
    const first = await push();
    await waitFor(
      async () => (await log(e.id)).find((d) => d.build_id === first)?.state === 'failed',
      10_000,
      'three failed attempts',
    );
    let view = (await api('GET', `/api/endpoints/${e.id}`)).json;
    assert.equal(view.state, 'active', 'failing, but not for long');
    assert.ok(view.stats.failing_since);

    offset += 4 * DAY;
    await push();
    await waitFor(() => flaky.got.length >= 6, 10_000, 'more failures');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await api('GET', `/api/endpoints/${e.id}`)).json.state, 'active', 'four days is not five');

    // A success ends the run: the count starts again.
    healthy = true;
    const ok = await push();
    await waitFor(
      async () => (await log(e.id)).find((d) => d.build_id === ok)?.state === 'delivered',
      10_000,
      'a success',
    );
    view = (await api('GET', `/api/endpoints/${e.id}`)).json;
    assert.equal(view.stats.failing_since, null);
    healthy = false;
    const again = await push();
    await waitFor(
      async () => (await log(e.id)).find((d) => d.build_id === again)?.state === 'failed',
      10_000,
      'a new run of failures',
    );
    offset += 5 * DAY + 3_600_000;
    await push();
    await waitFor(
      async () => (await api('GET', `/api/endpoints/${e.id}`)).json.state === 'disabled',
      10_000,
      'disabled after five days of failures',
    );
    view = (await api('GET', `/api/endpoints/${e.id}`)).json;
    assert.match(view.state_reason, /PUSHCI_ENDPOINT_DISABLE_AFTER/);
    await waitFor(
      () => disabledEvents().find((m) => parsed(m).data.endpoint.id === e.id),
      10_000,
      'endpoint.disabled',
    );
  });

  it('keeps a per-endpoint delivery log with attempts, statuses, answers and latency, filterable', async () => {
    let n = 0;
    const r = await receiver(() => (++n === 1 ? 503 : 200));
    const e = await register({ url: r.url, events: ['build.started', 'build.completed'] });
    const build = await push();
    await waitFor(
      async () =>
        (await log(e.id)).filter((d) => d.build_id === build && d.state === 'delivered').length === 2,
      10_000,
      'both messages delivered',
    );
    const all = (await log(e.id)).filter((d) => d.build_id === build);
    const retried = all.find((d) => d.attempts === 2)!;
    assert.deepEqual(
      retried.attempt_log.map((a: any) => a.status),
      [503, 200],
    );
    assert.equal(retried.attempt_log[0].body, 'ok', 'the answer is kept');
    assert.ok(retried.attempt_log.every((a: any) => typeof a.duration_ms === 'number'));
    assert.equal(retried.endpoint_id, e.id);

    const completedOnly = await log(e.id, '?type=build.completed');
    assert.ok(completedOnly.length >= 1 && completedOnly.every((d) => d.type === 'build.completed'));
    const delivered = await log(e.id, '?state=delivered');
    assert.ok(delivered.length >= 2 && delivered.every((d) => d.state === 'delivered'));
    assert.equal((await log(e.id, '?state=failed')).length, 0);
    assert.equal((await api('GET', `/api/endpoints/${e.id}/deliveries?state=bogus`)).status, 400);
    const page = await api('GET', `/api/endpoints/${e.id}/deliveries?limit=1`);
    assert.equal(page.json.deliveries.length, 1);
    assert.ok(page.json.next);
    const older = await api('GET', `/api/endpoints/${e.id}/deliveries?limit=1&before=${page.json.next}`);
    assert.notEqual(older.json.deliveries[0].id, page.json.deliveries[0].id);

    const stats = await api('GET', `/api/endpoints/${e.id}/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.json.stats.attempts_24h, 3);
    assert.equal(stats.json.stats.success_rate_24h, 0.667);
    assert.ok(stats.json.stats.last_success_at);
    assert.ok(stats.json.stats.last_failure_at);
    assert.equal(stats.json.hours.length, 24);
    const last = stats.json.hours.at(-1);
    assert.equal(last.ok + last.failed, 3);
  });

  it('redelivers every failed message since a time, and sends a test event on request', async () => {
    let up = false;
    const r = await receiver(() => (up ? 200 : 500));
    const e = await register({ url: r.url, events: ['build.completed'] });
    const builds = [await push(), await push()];
    await waitFor(async () => (await log(e.id, '?state=failed')).length === 2, 15_000, 'two failed messages');
    const mark = r.got.length;
    up = true;
    const res = await api('POST', `/api/endpoints/${e.id}/redeliver`, { since: '1h' });
    assert.equal(res.status, 202, JSON.stringify(res.json));
    assert.equal(res.json.redelivering, 2);
    await waitFor(
      () => builds.every((b) => r.got.slice(mark).some((m) => parsed(m).data.build.id === b)),
      10_000,
      'both again',
    );
    await waitFor(async () => (await log(e.id, '?state=delivered')).length === 2, 10_000, 'delivered');
    const bad = await api('POST', `/api/endpoints/${e.id}/redeliver`, { since: 'yesterday' });
    assert.equal(bad.status, 400);

    const test = await api('POST', `/api/endpoints/${e.id}/test`, { type: 'job.completed' });
    assert.equal(test.status, 202, JSON.stringify(test.json));
    const m = await waitFor(
      () => r.got.find((x) => x.headers['webhook-id'] === test.json.id),
      10_000,
      'the test event',
    );
    const event = new Webhook(e.secret).verify(m.body, headersOf(m)) as any;
    assert.equal(event.type, 'job.completed');
    assert.equal(event.data.job.name, 'build');
    await waitFor(
      async () => (await log(e.id)).some((d) => d.id === test.json.id && d.state === 'delivered'),
      10_000,
      'the test event in the log',
    );
  });

  it('lists every event type with a JSON Schema that real messages satisfy, and describes the API in OpenAPI', async () => {
    const res = await api('GET', '/api/event-types');
    assert.equal(res.status, 200);
    const types = res.json.event_types as Array<{ name: string; audience: string; schema: object }>;
    assert.deepEqual(types.map((t) => t.name).sort(), [
      'build.completed',
      'build.queued',
      'build.started',
      'endpoint.disabled',
      'job.completed',
    ]);
    assert.equal(types.find((t) => t.name === 'endpoint.disabled')!.audience, 'operator');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const checked = new Set<string>();
    for (const m of global.got) {
      const t = types.find((x) => x.name === parsed(m).type)!;
      const validate = ajv.compile(t.schema);
      assert.ok(validate(JSON.parse(m.body)), `${t.name}: ${ajv.errorsText(validate.errors)}`);
      checked.add(t.name);
    }
    assert.ok(checked.has('endpoint.disabled') && checked.has('build.completed'), [...checked].join());
    const wrong = ajv.compile(types.find((t) => t.name === 'build.completed')!.schema);
    assert.ok(!wrong({ type: 'build.completed', timestamp: 'x', data: {} }), 'the schema can fail');

    const doc = (await (await fetch(`${server.base}/openapi.json`)).json()) as any;
    for (const p of [
      '/api/endpoints',
      '/api/endpoints/{id}',
      '/api/endpoints/{id}/rotate-secret',
      '/api/endpoints/{id}/pause',
      '/api/endpoints/{id}/resume',
      '/api/endpoints/{id}/test',
      '/api/endpoints/{id}/deliveries',
      '/api/endpoints/{id}/redeliver',
      '/api/event-types',
    ])
      assert.ok(doc.paths[p], p);
    assert.ok(doc.paths['/api/endpoints'].post.responses['201']);
    assert.ok(doc.webhooks['endpoint.disabled']);
    assert.equal(doc.components.schemas.Endpoint.properties.secret, undefined, 'reads have no secret');
  });
});
