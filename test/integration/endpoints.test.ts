import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Webhook } from 'standardwebhooks';
import { apiCall, registerEndpoint } from '../helpers/api.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { whsec } from '../helpers/payloads.ts';
import { pushBuild } from '../helpers/push-build.ts';
import { startDocumentedReceiver } from '../helpers/documented-receiver.ts';
import { startReceiver, waitFor, type Received } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;
const headersOf = (r: Received) => ({
  'webhook-id': String(r.headers['webhook-id']),
  'webhook-timestamp': String(r.headers['webhook-timestamp']),
  'webhook-signature': String(r.headers['webhook-signature']),
});
const verifies = (secret: string, m: Received) => {
  try {
    new Webhook(secret).verify(m.body, headersOf(m));
    return true;
  } catch {
    return false;
  }
};
const buildOf = (m: Received) => (JSON.parse(m.body) as { data: { build: { id: string } } }).data.build.id;
const typeOf = (m: Received) => (JSON.parse(m.body) as { type: string }).type;

const TOKEN = 'endpoints-test-token';
const pipeline = (name: string, dir: string) =>
  `repository: octo-org/${name}\nclone-url: ${dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`;

describe('endpoints registered through the API', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let dataDir: string;
  let offset = 0;
  const now = () => Date.now() + offset;
  const receivers: Receiver[] = [];
  const children: ChildProcess[] = [];
  const globalSecret = whsec();
  let global: Receiver;
  let env: Record<string, string>;

  const receiver = async (respond?: Parameters<typeof startReceiver>[0]) => {
    const r = await startReceiver(respond);
    receivers.push(r);
    return r;
  };
  const api = (method: string, path: string, body?: unknown) =>
    apiCall(server.base, TOKEN, method, path, body);
  const register = (body: Record<string, unknown>) => registerEndpoint(server.base, TOKEN, body);
  const push = (name = 'web', branch = 'main') =>
    pushBuild(server, { name, sha: repo.commits[0]!, secret: 's', ref: `refs/heads/${branch}` });
  const completed = (r: Receiver, build: string) =>
    waitFor(
      () => r.got.find((m) => buildOf(m) === build && typeOf(m) === 'build.completed'),
      15_000,
      `build.completed of ${build}`,
    );

  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
    global = await receiver();
    dataDir = mkdtempSync(join(tmpdir(), 'pushci-test-data-'));
    env = {
      GITHUB_WEBHOOK_SECRET: 's',
      PUSHCI_API_TOKEN: TOKEN,
      PUSHCI_DATA_DIR: dataDir,
      PUSHCI_NOTIFY_URLS: global.url,
      PUSHCI_NOTIFY_SECRET: globalSecret,
    };
    server = await startServer(
      redis,
      { 'web.yml': pipeline('web', repo.dir), 'api.yml': pipeline('api', repo.dir) },
      env,
      { now },
    );
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.close();
    for (const r of receivers) await r.close();
    await redis?.stop();
  });

  it('registers an endpoint, shows its secret once, and delivers messages that verify with it', async () => {
    const r = await receiver();
    const created = await register({ url: r.url, description: 'deploy bot' });
    assert.match(created.id, /^ep_[0-9a-z]+$/);
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(created.state, 'active');
    assert.equal(created.source, 'api');
    assert.deepEqual(created.events, ['build.queued', 'build.started', 'build.completed', 'job.completed']);
    const read = await api('GET', `/api/endpoints/${created.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.description, 'deploy bot');
    assert.ok(!('secret' in read.json), 'a read never shows the secret');
    assert.ok(!JSON.stringify(read.json).includes(created.secret));

    const build = await push();
    await completed(r, build);
    await waitFor(() => r.got.filter((m) => buildOf(m) === build).length === 4, 10_000, 'four events');
    for (const m of r.got) {
      assert.ok(verifies(created.secret, m), 'verifies with the returned secret');
      assert.ok(!verifies(whsec(), m));
      assert.equal(String(m.headers['webhook-signature']).split(' ').length, 1);
    }
    assert.deepEqual(r.got.map(typeOf).sort(), [
      'build.completed',
      'build.queued',
      'build.started',
      'job.completed',
    ]);
  });

  it('takes a secret the caller supplies, and refuses one that is not a whsec_ secret', async () => {
    const r = await receiver();
    const own = whsec();
    const created = await register({ url: r.url, secret: own, events: ['build.completed'] });
    assert.equal(created.secret, own);
    const bad = await api('POST', '/api/endpoints', { url: r.url, secret: 'hunter2' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error, 'invalid_request');
    assert.match(bad.json.message, /whsec_/);
    const short = await api('POST', '/api/endpoints', {
      url: r.url,
      secret: `whsec_${Buffer.alloc(8, 1).toString('base64')}`,
    });
    assert.equal(short.status, 400);
    assert.match(short.json.message, /24 to 64/);
    const build = await push();
    const m = await completed(r, build);
    assert.ok(verifies(own, m));
  });

  it('sends only the subscribed event types, pipelines and branches', async () => {
    const onlyCompleted = await receiver();
    const onlyApi = await receiver();
    const onlyRelease = await receiver();
    await register({ url: onlyCompleted.url, events: ['build.completed'] });
    await register({ url: onlyApi.url, pipelines: ['a*', '!web'], events: ['build.completed'] });
    await register({ url: onlyRelease.url, branches: ['release/**'], events: ['build.completed'] });
    const web = await push('web', 'main');
    const apiBuild = await push('api', 'main');
    const release = await push('web', 'release/1.0');
    await completed(onlyCompleted, web);
    await completed(onlyCompleted, apiBuild);
    await completed(onlyCompleted, release);
    await completed(onlyApi, apiBuild);
    await completed(onlyRelease, release);
    // Let anything that should not come have its chance to arrive.
    await completed(global, release);
    await new Promise((res) => setTimeout(res, 500));
    assert.deepEqual([...new Set(onlyCompleted.got.map(typeOf))], ['build.completed']);
    assert.deepEqual(onlyApi.got.map(buildOf), [apiBuild], 'only the api pipeline');
    assert.deepEqual(onlyRelease.got.map(buildOf), [release], 'only release branches');

    const bad = await api('POST', '/api/endpoints', { url: onlyApi.url, events: ['build.exploded'] });
    assert.equal(bad.status, 400);
    assert.match(bad.json.message, /unknown event type "build.exploded"/);
    const glob = await api('POST', '/api/endpoints', { url: onlyApi.url, branches: ['release/{a'] });
    assert.equal(glob.status, 400);
    assert.match(glob.json.message, /branches\.0/);
  });

  it('refuses internal addresses and unusable URLs at registration, with the reason', async () => {
    const cases: Array<[string, RegExp]> = [
      ['http://10.0.0.1/hook', /10\.0\.0\.1 is an internal address/],
      ['http://169.254.169.254/latest/meta-data/', /internal address.*PUSHCI_NOTIFY_ALLOW/],
      ['http://[::1]:9/hook', /::1 is an internal address/],
      ['http://[::ffff:10.1.2.3]/hook', /internal address/],
      ['http://192.168.1.10/', /internal address/],
      ['ftp://example.com/hook', /only http and https/],
      ['http://user:pw@example.com/hook', /credentials/],
      ['http://127.0.0.1:9/${{ env.GITHUB_TOKEN }}', /not expanded/],
      ['not a url', /not an absolute URL/],
    ];
    for (const [url, why] of cases) {
      const res = await api('POST', '/api/endpoints', { url });
      assert.equal(res.status, 400, url);
      assert.equal(res.json.error, 'invalid_request');
      assert.match(res.json.message, why, url);
    }
    const ok = await receiver();
    const e = await register({ url: ok.url });
    const patched = await api('PATCH', `/api/endpoints/${e.id}`, { url: 'http://10.0.0.1/x' });
    assert.equal(patched.status, 400);
    assert.match(patched.json.message, /internal address/);
    const still = await api('GET', `/api/endpoints/${e.id}`);
    assert.equal(still.json.url, ok.url, 'nothing changed');
    const list = await api('GET', '/api/endpoints?source=api');
    assert.ok(!list.json.endpoints.some((x: any) => x.url.includes('10.0.0.1')));
  });

  it('rotates a secret: both signatures verify during the overlap, only the new one after', async () => {
    const r = await receiver();
    const e = await register({ url: r.url, events: ['build.completed'] });
    const rotated = await api('POST', `/api/endpoints/${e.id}/rotate-secret`, { overlap: '1h' });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.json));
    const fresh = rotated.json.secret as string;
    assert.notEqual(fresh, e.secret);
    assert.ok(Date.parse(rotated.json.previous_secret_valid_until) > now());
    assert.ok(
      (await api('GET', `/api/endpoints/${e.id}`)).json.previous_secret_valid_until,
      'the read shows the overlap',
    );

    const during = await completed(r, await push());
    assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2);
    assert.ok(verifies(e.secret, during), 'the old secret verifies during the overlap');
    assert.ok(verifies(fresh, during), 'the new secret verifies during the overlap');

    offset += 3_600_000 + 1000;
    const afterwards = await completed(r, await push());
    assert.equal(String(afterwards.headers['webhook-signature']).split(' ').length, 1);
    assert.ok(verifies(fresh, afterwards), 'the new secret verifies');
    assert.ok(!verifies(e.secret, afterwards), 'the old one no longer does');
    assert.equal((await api('GET', `/api/endpoints/${e.id}`)).json.previous_secret_valid_until, null);
  });

  it('holds messages while paused and delivers them on resume; with on_pause drop they are dropped', async () => {
    const keep = await receiver();
    const drop = await receiver();
    const k = await register({ url: keep.url, events: ['build.completed'] });
    const d = await register({ url: drop.url, events: ['build.completed'], on_pause: 'drop' });
    const paused = await api('POST', `/api/endpoints/${k.id}/pause`, {});
    assert.equal(paused.status, 200);
    assert.equal(paused.json.state, 'paused');
    assert.equal((await api('POST', `/api/endpoints/${d.id}/pause`, {})).json.state, 'paused');
    assert.equal((await api('POST', `/api/endpoints/${k.id}/pause`, {})).status, 409, 'already paused');

    const build = await push();
    await completed(global, build);
    const state = async (id: string) =>
      ((await api('GET', `/api/endpoints/${id}/deliveries`)).json.deliveries as any[]).find(
        (x) => x.build_id === build,
      )?.state;
    await waitFor(async () => (await state(k.id)) === 'held', 10_000, 'the message to be held');
    await waitFor(async () => (await state(d.id)) === 'dropped', 10_000, 'the message to be dropped');
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(keep.got.length, 0);
    assert.equal(drop.got.length, 0);

    const resumed = await api('POST', `/api/endpoints/${k.id}/resume`, {});
    assert.equal(resumed.status, 200, JSON.stringify(resumed.json));
    assert.equal(resumed.json.state, 'active');
    assert.equal(resumed.json.released, 1);
    const m = await completed(keep, build);
    assert.ok(verifies(k.secret, m));
    await waitFor(async () => (await state(k.id)) === 'delivered', 10_000, 'delivered');

    await api('POST', `/api/endpoints/${d.id}/resume`, {});
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(drop.got.length, 0, 'a dropped message stays dropped');
    const next = await push();
    await completed(drop, next);
  });

  it('keeps no secret in Redis in the clear', async () => {
    const r = await receiver();
    const e = await register({ url: r.url });
    const rotated = (await api('POST', `/api/endpoints/${e.id}/rotate-secret`, {})).json.secret as string;
    const conn = new Redis(redis.url);
    try {
      const needles = [e.secret, rotated, globalSecret].flatMap((s) => [s, s.slice('whsec_'.length)]);
      let keys = 0;
      let cursor = '0';
      do {
        const [next, batch] = await conn.scan(cursor, 'MATCH', `${redis.prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of batch) {
          keys++;
          const type = await conn.type(key);
          const values =
            type === 'string'
              ? [await conn.get(key)]
              : type === 'hash'
                ? Object.entries(await conn.hgetall(key)).flat()
                : type === 'list'
                  ? await conn.lrange(key, 0, -1)
                  : type === 'set'
                    ? await conn.smembers(key)
                    : type === 'zset'
                      ? await conn.zrange(key, '0', '-1')
                      : [JSON.stringify(await conn.xrange(key, '-', '+'))];
          for (const v of values)
            for (const n of needles) assert.ok(!String(v).includes(n), `${key} holds a secret`);
        }
      } while (cursor !== '0');
      assert.ok(keys > 20, `scanned ${keys} keys`);
      const stored = await conn.hget(`${redis.prefix}:endpoint:${e.id}`, 'secret');
      assert.match(stored!, /^v1\.[0-9a-f]{16}\./, 'stored encrypted, naming its key');
    } finally {
      conn.disconnect();
    }
    for (const l of server.logs) {
      const line = JSON.stringify(l);
      assert.ok(!line.includes(e.secret.slice(6)) && !line.includes(rotated.slice(6)), 'never logged');
    }
  });

  it('lists every kind of endpoint alike, and deletes registered ones', async () => {
    const list = await api('GET', '/api/endpoints');
    assert.equal(list.status, 200);
    const kinds = new Set(list.json.endpoints.map((e: any) => e.source));
    assert.deepEqual([...kinds].sort(), ['api', 'global']);
    const g = list.json.endpoints.find((e: any) => e.source === 'global');
    assert.equal(g.url, global.url);
    assert.ok(g.stats.delivered > 0, 'the global endpoint has its delivery counts');
    assert.ok(!JSON.stringify(list.json).includes('whsec_'));
    const patchGlobal = await api('PATCH', `/api/endpoints/${g.id}`, { description: 'x' });
    assert.equal(patchGlobal.status, 409);
    assert.match(patchGlobal.json.message, /PUSHCI_NOTIFY_URLS/);

    const r = await receiver();
    const e = await register({ url: r.url });
    assert.equal((await api('DELETE', `/api/endpoints/${e.id}`)).status, 204);
    assert.equal((await api('GET', `/api/endpoints/${e.id}`)).status, 404);
    assert.equal((await api('DELETE', `/api/endpoints/${e.id}`)).status, 404);
    const build = await push();
    await completed(global, build);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(r.got.length, 0, 'a deleted endpoint receives nothing');
  });

  it('the documented Node receiver (docs/receivers.md) verifies and de-duplicates messages to a registered endpoint', async () => {
    const port = await freePort();
    const e = await register({ url: `http://127.0.0.1:${port}/`, pipelines: ['web'] });
    const { child, lines } = await startDocumentedReceiver(port, e.secret);
    children.push(child);
    const build = await push();
    await waitFor(() => lines.length === 4, 20_000, 'four events at the documented receiver');
    const msg = `msg_${build}_build.completed_${e.id}`;
    await waitFor(
      async () => (await api('GET', `/api/deliveries/${msg}`)).json?.state === 'delivered',
      10_000,
      'delivered',
    );
    // The log says delivered a moment before BullMQ marks the job completed: ask until it is.
    await waitFor(
      async () => (await api('POST', `/api/deliveries/${msg}/redeliver`)).status === 202,
      10_000,
      'the redelivery to be accepted',
    );
    await waitFor(
      async () => (await api('GET', `/api/deliveries/${msg}`)).json.attempt_log.length === 2,
      10_000,
      'the redelivery',
    );
    const statuses = (await api('GET', `/api/deliveries/${msg}`)).json.attempt_log.map((a: any) => a.status);
    assert.deepEqual(statuses, [204, 204], 'the receiver accepted both (it verified the signature)');
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]).sort(),
      ['build.completed', 'build.queued', 'build.started', 'job.completed'],
      'each message handled once',
    );
  });

  it('keeps every endpoint, its state and its secret across a restart', async () => {
    const r = await receiver();
    const e = await register({ url: r.url, events: ['build.completed'], description: 'survivor' });
    const p = await register({ url: r.url, events: ['build.queued'] });
    await api('POST', `/api/endpoints/${p.id}/pause`, {});
    const before = (await api('GET', '/api/endpoints?source=api')).json.endpoints;
    await server.close();
    server = await startServer(
      redis,
      { 'web.yml': pipeline('web', repo.dir), 'api.yml': pipeline('api', repo.dir) },
      env,
      { now },
    );
    const afterwards = (await api('GET', '/api/endpoints?source=api')).json.endpoints;
    const strip = (list: any[]) => list.map(({ stats: _, ...rest }) => rest);
    assert.deepEqual(strip(afterwards), strip(before));
    assert.equal(afterwards.find((x: any) => x.id === p.id).state, 'paused');
    const m = await completed(r, await push());
    assert.ok(verifies(e.secret, m), 'the secret survived (decrypted with the key in the data dir)');
  });

  it('a process with another key says so instead of writing secrets no one else can read', async () => {
    const other = await startServer(
      redis,
      { 'web.yml': pipeline('web', repo.dir) },
      { ...env, PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-data-')) },
      { worker: false },
    );
    try {
      assert.ok(
        other.logs.some((l) => /encrypted with key [0-9a-f]{16}.*PUSHCI_SECRETS_KEY/.test(String(l.err))),
        'the start logs the key problem',
      );
      const r = await receiver();
      const refused = await apiCall(other.base, TOKEN, 'POST', '/api/endpoints', { url: r.url });
      assert.equal(refused.status, 500);
      assert.match(refused.json.message, /PUSHCI_SECRETS_KEY/);
      assert.equal((await apiCall(other.base, TOKEN, 'GET', '/api/endpoints?source=api')).status, 200);
    } finally {
      await other.close();
    }
    const key = readFileSync(join(dataDir, 'endpoint-secrets.key'), 'utf8').trim();
    const shared = await startServer(
      redis,
      { 'web.yml': pipeline('web', repo.dir) },
      {
        ...env,
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-test-data-')),
        PUSHCI_SECRETS_KEY: key,
      },
      { worker: false },
    );
    try {
      const r = await receiver();
      const ok = await apiCall(shared.base, TOKEN, 'POST', '/api/endpoints', { url: r.url });
      assert.equal(ok.status, 201, JSON.stringify(ok.json));
      assert.ok(!shared.logs.some((l) => Number(l.level) >= 50), 'no errors with the shared key');
    } finally {
      await shared.close();
    }
  });
});
