import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { spawnPushci } from '../helpers/process.ts';

/** A fake forge API that answers from a table and records every request. */
async function fakeApi(routes: Record<string, (body: any) => [number, unknown]>) {
  const got: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: any }> = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      got.push({ method: req.method!, path, headers: req.headers, body: text ? JSON.parse(text) : null });
      const route = routes[`${req.method} ${path}`];
      const [status, body] = route ? route(text ? JSON.parse(text) : null) : [404, { message: 'Not Found' }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    got,
    close: () => server.close(),
  };
}

describe('pushci hooks against fake GitHub and GitLab APIs', () => {
  const PUBLIC = 'https://ci.example.com';
  const hooks: any[] = [];
  let gh: Awaited<ReturnType<typeof fakeApi>>;
  let gl: Awaited<ReturnType<typeof fakeApi>>;
  let bb: Awaited<ReturnType<typeof fakeApi>>;
  const bbHooks: any[] = [
    { uuid: '{old}', url: 'https://elsewhere.example/hook', active: true, events: ['repo:push'] },
  ];
  before(async () => {
    bb = await fakeApi({
      'GET /2.0/repositories/team/app/hooks': () => [200, { values: bbHooks }],
      'POST /2.0/repositories/team/app/hooks': (b) => {
        const h = { uuid: '{b7}', url: b.url, active: b.active, events: b.events, secret_set: true };
        bbHooks.push(h);
        return [201, h];
      },
      'GET /2.0/repositories/team/off/hooks': () => [
        200,
        {
          values: [
            {
              uuid: '{o1}',
              url: `${PUBLIC}/webhooks/bitbucket`,
              active: false,
              events: ['repo:push'],
              secret_set: false,
            },
          ],
        },
      ],
    });
    gh = await fakeApi({
      'GET /repos/octo-org/web/hooks': () => [200, hooks],
      'POST /repos/octo-org/web/hooks': (b) => {
        const h = {
          id: 77,
          active: true,
          events: b.events,
          config: { url: b.config.url, content_type: b.config.content_type },
        };
        hooks.push(h);
        return [201, h];
      },
      'GET /repos/octo-org/web/hooks/77/deliveries': () => [
        200,
        [
          {
            id: 2,
            guid: 'g2',
            delivered_at: new Date().toISOString(),
            redelivery: false,
            status: 'Invalid HTTP Response: 401',
            status_code: 401,
            event: 'push',
          },
          {
            id: 1,
            guid: 'g1',
            delivered_at: new Date().toISOString(),
            redelivery: false,
            status: 'OK',
            status_code: 202,
            event: 'push',
          },
        ],
      ],
      'GET /repos/octo-org/other/hooks': () => [
        200,
        [{ id: 5, active: true, events: ['push'], config: { url: `${PUBLIC}/hook`, content_type: 'form' } }],
      ],
    });
    gl = await fakeApi({
      'GET /api/v4/projects/group%2Fapp/hooks': () => [200, []],
      'POST /api/v4/projects/group%2Fapp/hooks': (b) => [201, { id: 9, ...b }],
    });
  });
  after(() => {
    gh?.close();
    gl?.close();
    bb?.close();
  });
  const env = {
    PUSHCI_PUBLIC_URL: PUBLIC,
    GITHUB_TOKEN: 'ghp_hooks',
    GITHUB_WEBHOOK_SECRET: 'the-hook-secret',
    GITLAB_TOKEN: 'glpat-hooks',
    GITLAB_WEBHOOK_TOKEN: 'the-gitlab-token',
    BITBUCKET_TOKEN: 'bb-hooks',
    BITBUCKET_WEBHOOK_SECRET: 'the-bitbucket-secret',
  };
  const cli = async (args: string[]) => {
    const p = spawnPushci(args, {
      ...env,
      PUSHCI_GITHUB_API_URL: gh.url,
      PUSHCI_GITLAB_API_URL: `${gl.url}/api/v4`,
      PUSHCI_BITBUCKET_API_URL: bb.url,
    });
    const code = await p.exited;
    return { code, out: p.output.join('') };
  };

  it('creates a GitHub hook with json, push and the secret; a second create changes nothing', async () => {
    const r = await cli(['hooks', 'create', 'octo-org/web']);
    assert.equal(r.code, 0, r.out);
    const create = gh.got.find((g) => g.method === 'POST')!;
    assert.equal(create.path, '/repos/octo-org/web/hooks');
    assert.equal(create.headers.authorization, 'Bearer ghp_hooks');
    assert.equal(create.headers['x-github-api-version'], '2022-11-28');
    assert.deepEqual(create.body, {
      name: 'web',
      active: true,
      events: ['push', 'pull_request'],
      config: {
        url: `${PUBLIC}/webhooks/github`,
        content_type: 'json',
        secret: 'the-hook-secret',
        insecure_ssl: '0',
      },
    });
    const again = await cli(['hooks', 'create', 'octo-org/web']);
    assert.match(again.out, /already has hook 77/);
    assert.equal(gh.got.filter((g) => g.method === 'POST').length, 1);
  });

  it('checks a GitHub hook and explains failing deliveries and wrong URLs', async () => {
    const r = await cli(['hooks', 'check', 'octo-org/web']);
    assert.equal(r.code, 1);
    assert.match(r.out, /✔ hook 77 points at https:\/\/ci\.example\.com\/webhooks\/github/);
    assert.match(r.out, /1 of 2 deliveries in the last 24 h failed/);
    assert.match(r.out, /secret mismatch/);
    assert.match(r.out, /pushci recover --repo octo-org\/web/);
    const other = await cli(['hooks', 'check', 'octo-org/other']);
    assert.equal(other.code, 1);
    assert.match(
      other.out,
      /hook 5 points at https:\/\/ci\.example\.com\/hook; it should be https:\/\/ci\.example\.com\/webhooks\/github/,
    );
  });

  it('creates a GitLab hook with push and tag push events and the token', async () => {
    const r = await cli(['hooks', 'create', 'group/app', '--forge', 'gitlab']);
    assert.equal(r.code, 0, r.out);
    const create = gl.got.find((g) => g.method === 'POST')!;
    assert.equal(create.path, '/api/v4/projects/group%2Fapp/hooks');
    assert.equal(create.headers['private-token'], 'glpat-hooks');
    assert.deepEqual(create.body, {
      url: `${PUBLIC}/webhooks/gitlab`,
      token: 'the-gitlab-token',
      push_events: true,
      tag_push_events: true,
      merge_requests_events: true,
      enable_ssl_verification: true,
    });
  });

  it('creates a Bitbucket webhook with push and pull request events and the secret, once, and checks it', async () => {
    const r = await cli(['hooks', 'create', 'team/app', '--forge', 'bitbucket']);
    assert.equal(r.code, 0, r.out);
    const create = bb.got.find((g) => g.method === 'POST')!;
    assert.equal(create.path, '/2.0/repositories/team/app/hooks');
    assert.equal(create.headers.authorization, 'Bearer bb-hooks');
    assert.deepEqual(create.body, {
      description: 'pushci',
      url: `${PUBLIC}/webhooks/bitbucket`,
      active: true,
      secret: 'the-bitbucket-secret',
      events: ['repo:push', 'pullrequest:created', 'pullrequest:updated'],
    });
    const again = await cli(['hooks', 'create', 'team/app', '--forge', 'bitbucket']);
    assert.match(again.out, /already has webhook \{b7\}/);
    assert.equal(bb.got.filter((g) => g.method === 'POST').length, 1);
    const check = await cli(['hooks', 'check', 'team/app', '--forge', 'bitbucket']);
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /✔ webhook \{b7\} points at https:\/\/ci\.example\.com\/webhooks\/bitbucket/);
    const off = await cli(['hooks', 'check', 'team/off', '--forge', 'bitbucket']);
    assert.equal(off.code, 1, off.out);
    assert.match(off.out, /✘ the webhook is not active/);
    assert.match(off.out, /! pullrequest:created and pullrequest:updated are not a trigger/);
    assert.match(off.out, /✘ the webhook has no secret/);
  });
});
