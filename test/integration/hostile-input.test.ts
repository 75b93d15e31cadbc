import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { githubSignature, post } from '../helpers/payloads.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const FIX = join(import.meta.dirname, '../fixtures');
const SECRET = 'hostile-secret';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

let pushedAt = Math.floor(Date.now() / 1000);

/** The GitHub fixture aimed at the test pipeline, as a new push (GitHub's `pushed_at` differs per push). */
function base(): Record<string, any> {
  const p = JSON.parse(readFileSync(join(FIX, 'github/push.json'), 'utf8'));
  p.repository.pushed_at = pushedAt++;
  p.before = A;
  p.after = B;
  p.repository.full_name = 'octo-org/web';
  return p;
}

/** A small seeded PRNG (mulberry32), so a failing fuzz case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hostile input', () => {
  let redis: TestRedis;
  let server: TestServer;
  let client: Redis;
  before(async () => {
    redis = await startRedis();
    // No workers: builds stay queued, so the test measures only the receiver.
    server = await startServer(
      redis,
      { 'p.yml': "repository: octo-org/*\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n" },
      { GITHUB_WEBHOOK_SECRET: SECRET, GITLAB_WEBHOOK_TOKEN: 'gl' },
      { worker: false },
    );
    client = new Redis(redis.url);
  });
  after(async () => {
    client?.disconnect();
    await server?.close();
    await redis?.stop();
  });
  const builds = () => client.zcard(`${redis.prefix}:index:builds`);
  const signed = (body: string | Buffer, extra: Record<string, string> = {}) =>
    post(`${server.base}/webhooks/github`, body, {
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': githubSignature(body, SECRET),
      ...extra,
    });
  const withRef = (ref: string) => JSON.stringify({ ...base(), ref });

  it('answers each hostile request with the right status and a JSON reason', async () => {
    const body = JSON.stringify(base());
    const deep = `{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const table: Array<[string, () => ReturnType<typeof post>, number, string?]> = [
      [
        'no event header',
        () =>
          post(`${server.base}/webhooks/github`, body, {
            'x-github-delivery': '1',
            'x-hub-signature-256': githubSignature(body, SECRET),
          }),
        400,
        'malformed_payload',
      ],
      [
        'no delivery header',
        () =>
          post(`${server.base}/webhooks/github`, body, {
            'x-github-event': 'push',
            'x-hub-signature-256': githubSignature(body, SECRET),
          }),
        400,
        'malformed_payload',
      ],
      [
        'upper-case header names',
        () =>
          post(`${server.base}/webhooks/github`, body, {
            'X-GITHUB-EVENT': 'push',
            'X-GITHUB-DELIVERY': randomUUID(),
            'X-HUB-SIGNATURE-256': githubSignature(body, SECRET),
          }),
        202,
      ],
      [
        'signature of another body',
        () =>
          post(`${server.base}/webhooks/github`, body, {
            'x-github-event': 'push',
            'x-github-delivery': '1',
            'x-hub-signature-256': githubSignature('{}', SECRET),
          }),
        401,
        'signature_mismatch',
      ],
      [
        'sha1= prefix',
        () =>
          signed(body, { 'x-hub-signature-256': githubSignature(body, SECRET).replace('sha256', 'sha1') }),
        401,
        'signature_mismatch',
      ],
      [
        'signature too short',
        () => signed(body, { 'x-hub-signature-256': githubSignature(body, SECRET).slice(0, 40) }),
        401,
        'signature_mismatch',
      ],
      [
        'signature not hex',
        () => signed(body, { 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` }),
        401,
        'signature_mismatch',
      ],
      ['empty body', () => signed(''), 400, 'malformed_payload'],
      ['truncated JSON', () => signed(body.slice(0, body.length / 2)), 400, 'malformed_payload'],
      ['JSON null', () => signed('null'), 400, 'malformed_payload'],
      ['JSON number', () => signed('42'), 400, 'malformed_payload'],
      ['JSON array', () => signed('[]'), 400, 'malformed_payload'],
      ['JSON string', () => signed('"push"'), 400, 'malformed_payload'],
      ['deeply nested JSON', () => signed(deep), 400, 'malformed_payload'],
      ['a 5 MB ref', () => signed(withRef(`refs/heads/${'x'.repeat(5_000_000)}`)), 400, 'malformed_payload'],
      [
        'non-UTF-8 body, signed',
        () => signed(Buffer.concat([Buffer.from(body.slice(0, -1)), Buffer.from([0xc3, 0x28, 0x7d])])),
        400,
        'malformed_payload',
      ],
      ['ref with ..', () => signed(withRef('refs/heads/a/../../etc')), 400, 'malformed_payload'],
      ['ref with a space', () => signed(withRef('refs/heads/a b')), 400, 'malformed_payload'],
      ['ref with a newline', () => signed(withRef('refs/heads/a\nb')), 400, 'malformed_payload'],
      [
        'ref with shell metacharacters',
        () => signed(withRef('refs/heads/$(touch${IFS}/tmp/pwned);`id`|&>')),
        202,
      ],
      ['unicode ref', () => signed(withRef('refs/heads/fix/日本語-ünï')), 202],
      ['ref of 300 bytes', () => signed(withRef(`refs/heads/${'r'.repeat(300)}`)), 202],
      [
        'sha not hex',
        () => signed(JSON.stringify({ ...base(), after: 'g'.repeat(40) })),
        400,
        'malformed_payload',
      ],
      [
        'repository that matches nothing',
        () => signed(JSON.stringify({ ...base(), repository: { full_name: 'nobody/nothing' } })),
        200,
      ],
      [
        'repository missing',
        () => signed(JSON.stringify({ ...base(), repository: undefined })),
        400,
        'malformed_payload',
      ],
      [
        'gitlab token with other event',
        () =>
          post(`${server.base}/webhooks/gitlab`, '{}', {
            'x-gitlab-token': 'gl',
            'x-gitlab-event': 'Issue Hook',
          }),
        202,
      ],
    ];
    for (const [name, send, status, code] of table) {
      const r = await send();
      assert.equal(r.status, status, `${name}: ${r.text.slice(0, 200)}`);
      assert.ok(r.json && typeof r.json === 'object', `${name}: answer is JSON`);
      if (code) {
        assert.equal(r.json.error, code, name);
        assert.ok(r.json.message.length > 5, `${name}: a reason is given`);
      }
    }
    const ls = (await import('node:fs')).existsSync('/tmp/pwned');
    // The receiver only (no worker here); a hostile branch reaching steps: workflow-expressions.test.ts.
    assert.equal(ls, false, 'the receiver ran nothing from a ref');
  });

  it('answers the webhook route’s other methods, unknown forges and odd paths in JSON, each with a request id', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await fetch(`${server.base}/webhooks/github`, { method });
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.get('allow'), 'POST');
      assert.equal(((await r.json()) as { error: string }).error, 'method_not_allowed');
      assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    }
    const before = await builds();
    const unknown = await fetch(`${server.base}/webhooks/sourcehut?x=1`, { method: 'POST', body: '{}' });
    assert.equal(unknown.status, 404);
    const body = (await unknown.json()) as { error: string; message: string };
    assert.equal(body.error, 'not_found');
    assert.match(body.message, /use one of: github, gitlab/);
    const nested = await fetch(`${server.base}/webhooks/github/extra`, { method: 'POST', body: '{}' });
    assert.equal(nested.status, 404, 'a deeper path is not the webhook route');
    assert.equal(((await nested.json()) as { error: string }).error, 'not_found');
    const ok = await signed(JSON.stringify(base()), { 'x-github-delivery': randomUUID() });
    assert.equal(ok.status, 202);
    assert.equal(await builds(), before + 1);
    // Made-up forge names count as one label, so they cannot grow the metrics without bound.
    const metrics = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(metrics, /pushci_webhooks_received_total\{forge="unknown",status="404"\} 1\n/);
    assert.match(metrics, /pushci_webhooks_received_total\{forge="github",status="405"\} 3\n/);
    assert.doesNotMatch(metrics, /sourcehut/);
  });

  it(
    'survives 10,000 seeded mutations of real payloads: no 5xx, no build from an unverified request',
    { timeout: 300_000 },
    async () => {
      const seed = Number(process.env.FUZZ_SEED ?? 20261122);
      const random = rng(seed);
      const originals = [
        JSON.stringify(base()),
        readFileSync(join(FIX, 'gitlab/push.json'), 'utf8'),
        readFileSync(join(FIX, 'gitea/push.json'), 'utf8'),
      ];
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      const mutate = (s: Buffer): Buffer => {
        const b = Buffer.from(s);
        const at = Math.floor(random() * b.length);
        switch (Math.floor(random() * 7)) {
          case 0: // flip a bit
            b[at] = b[at]! ^ (1 << Math.floor(random() * 8));
            return b;
          case 1: // delete a range
            return Buffer.concat([b.subarray(0, at), b.subarray(at + Math.floor(random() * 64))]);
          case 2: // duplicate a range
            return Buffer.concat([b.subarray(0, at), b.subarray(at, at + 64), b.subarray(at)]);
          case 3: // insert random bytes
            return Buffer.concat([
              b.subarray(0, at),
              Buffer.from(
                Array.from({ length: 1 + Math.floor(random() * 16) }, () => Math.floor(random() * 256)),
              ),
              b.subarray(at),
            ]);
          case 4: // truncate
            return b.subarray(0, at);
          case 5: // replace a JSON token with something of another type
            return Buffer.from(
              b
                .toString('utf8')
                .replace(
                  /"[^"]*"|\d+|true|false|null/,
                  pick(['null', '[]', '{}', '1e309', '"\\u0000"', '-0', '"' + 'x'.repeat(1000) + '"']),
                ),
            );
          default: // swap the ref for a hostile one
            return Buffer.from(
              b
                .toString('utf8')
                .replace(
                  /"refs\/[^"]*"/,
                  JSON.stringify(
                    pick([
                      'refs/heads/..',
                      'refs/heads/a;rm -rf /',
                      'refs/tags/\u0000',
                      'refs/heads/' + 'ä'.repeat(600),
                      'refs/heads/ok',
                    ]),
                  ),
                ),
            );
        }
      };
      const storedBefore = await builds();
      let accepted = 0;
      let unverified = 0;
      const counts = new Map<number, number>();
      // Every case drawn first, in the order the seed gives them, then sent eight at a time: they are
      // independent, and on a loaded machine eight wait for Redis and the event loop together instead of
      // one after another (one at a time, the test used all of its 120 s at a load average of 30).
      const cases = Array.from({ length: 10_000 }, (_, i) => {
        const original = Buffer.from(pick(originals));
        const body = mutate(original);
        const resign = random() < 0.5;
        const headers: Record<string, string> = {
          'x-github-event': pick(['push', 'push', 'ping', 'issues']),
          'x-github-delivery': `fuzz-${seed}-${i}`,
        };
        headers['x-hub-signature-256'] = githubSignature(resign ? body : original, SECRET);
        if (random() < 0.05) delete headers['x-hub-signature-256'];
        const verified = resign && headers['x-hub-signature-256'] !== undefined;
        return { i, body, headers, unverified: !verified && !body.equals(original) };
      });
      const send = async (queue: typeof cases) => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          const { i, body, headers } = c;
          const r = await post(`${server.base}/webhooks/github`, body, headers);
          counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
          assert.ok(r.status < 500, `mutation ${i} (seed ${seed}) got ${r.status}: ${r.text.slice(0, 200)}`);
          assert.ok(r.json !== null, `mutation ${i} (seed ${seed}) got no JSON`);
          if (c.unverified) {
            unverified++;
            assert.equal(r.status, 401, `unverified mutation ${i} (seed ${seed}) got ${r.status}`);
          }
          if (r.status === 202) accepted += r.json.builds.length;
        }
      };
      const queue = [...cases];
      await Promise.all(Array.from({ length: 8 }, () => send(queue)));
      const stored = (await builds()) - storedBefore;
      console.log(
        `fuzz seed ${seed}: ${[...counts].map(([s, n]) => `${s}×${n}`).join(' ')}; unverified ${unverified}; builds ${stored}`,
      );
      assert.ok(unverified > 3000, 'the fuzz exercised unverified requests');
      assert.equal(
        stored,
        accepted,
        'exactly the builds answered with 202 are stored: none from a refused request',
      );
    },
  );
});
