import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, post, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { receiverExample, startDocumentedReceiver } from '../helpers/documented-receiver.ts';
import { startReceiver, waitFor, waitForHttp } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const ROOT = join(import.meta.dirname, '../..');
const envOf = (file: string) =>
  Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('from zero to the first green build', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  const procs: PushciProcess[] = [];
  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
  });
  after(async () => {
    for (const p of procs) p.proc.kill('SIGKILL');
    await redis?.stop();
  });

  it('pushci init --yes, then serve with what it wrote, then a signed push builds green', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-init-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    // init writes into its working directory: run it from the empty folder.
    const out = execFileSync(
      process.execPath,
      [
        join(ROOT, 'src/cli.ts'),
        'init',
        '--yes',
        '--repo',
        'octo-org/demo',
        '--branches',
        'main,release/**',
        '--public-url',
        url,
        '--clone-url',
        repo.dir,
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH!, HOME: process.env.HOME! },
        encoding: 'utf8',
      },
    );
    const secret = /Secret:\s+(\S+)/.exec(out)?.[1];
    assert.ok(secret && secret.length >= 64, out);
    assert.match(out, new RegExp(`Payload URL:\\s+${url}/webhooks/github`));
    assert.match(out, /Content type:\s+application\/json/);
    assert.match(out, /Pushes and Pull requests/);
    const env = envOf(join(dir, '.env'));
    assert.equal(env.GITHUB_WEBHOOK_SECRET, secret);
    assert.match(env.CALLBACK_SECRET!, /^whsec_/);
    // A second init never overwrites.
    const again = execFileSync(
      process.execPath,
      [join(ROOT, 'src/cli.ts'), 'init', '--yes', '--repo', 'octo-org/demo'],
      { cwd: dir, env: { PATH: process.env.PATH! }, encoding: 'utf8' },
    );
    assert.match(again, /kept your .*\.env: it already has every value/);
    // …and what it says to paste is what .env holds, not a fresh secret.
    assert.equal(/Secret:\s+(\S+)/.exec(again)?.[1], secret);
    assert.equal(envOf(join(dir, '.env')).GITHUB_WEBHOOK_SECRET, secret);
    // The public URL is http://, so the forge form cannot enable SSL verification: init does not say it can.
    assert.match(out, /SSL verification: not applicable to an http:\/\/ URL/);
    // Another forge: its secret is appended, the existing values stay, and the printed token is the stored one.
    const gitlab = execFileSync(
      process.execPath,
      [join(ROOT, 'src/cli.ts'), 'init', '--yes', '--forge', 'gitlab', '--repo', 'octo-org/demo'],
      { cwd: dir, env: { PATH: process.env.PATH! }, encoding: 'utf8' },
    );
    assert.match(gitlab, /added GITLAB_WEBHOOK_TOKEN/);
    const afterGitlab = envOf(join(dir, '.env'));
    assert.equal(afterGitlab.GITHUB_WEBHOOK_SECRET, secret);
    assert.equal(/Secret token:\s+(\S+)/.exec(gitlab)?.[1], afterGitlab.GITLAB_WEBHOOK_TOKEN);

    const serve = spawn(process.execPath, [join(ROOT, 'src/cli.ts'), 'serve'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME!,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        PUSHCI_QUEUE_PREFIX: redis.prefix,
      },
      stdio: 'ignore',
    });
    procs.push({ proc: serve, output: [], exited: new Promise((r) => serve.once('exit', r)) });
    await waitForHttp(`${url}/healthz`, { what: 'the server' });
    const res = await sendGithub(
      url,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: 'octo-org/demo' }),
      secret,
    );
    assert.equal(res.status, 202, res.text);
    const auth = { authorization: `Bearer ${env.PUSHCI_API_TOKEN}` };
    const v = await waitFor(
      async () =>
        ((b) => (b.status === 'success' ? b : null))(
          (await (
            await fetch(`${url}/api/builds/${res.json.builds[0].id}`, { headers: auth })
          ).json()) as BuildView,
        ),
      30_000,
      'a green build',
    );
    assert.equal(v.pipeline, 'demo');
  });
});

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

describe('test events and the documented receivers', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  const secret = whsec();
  const children: ReturnType<typeof spawn>[] = [];
  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await server?.close();
    await redis?.stop();
  });

  it('notify-test and POST /api/endpoints/test send one signed example of every event type', async () => {
    const receiver = await startReceiver();
    // The same address policy as real deliveries: a loopback receiver is refused, and the output says how to allow it…
    const refusedCli = spawnPushci(['notify-test', receiver.url, '--secret', secret], {});
    assert.equal(await refusedCli.exited, 1, refusedCli.output.join(''));
    assert.match(refusedCli.output.join(''), /✘ build\.queued .*internal address.*PUSHCI_NOTIFY_ALLOW/);
    assert.equal(receiver.got.length, 0);
    // …and once allowed, as deliveries would be, every event type arrives.
    const p = spawnPushci(['notify-test', receiver.url, '--secret', secret], {
      PUSHCI_NOTIFY_ALLOW: '127.0.0.1',
    });
    assert.equal(await p.exited, 0, p.output.join(''));
    assert.deepEqual(receiver.types(), ['build.queued', 'build.started', 'build.completed', 'job.completed']);
    const wh = new Webhook(secret);
    for (const m of receiver.got)
      wh.verify(m.body, {
        'webhook-id': String(m.headers['webhook-id']),
        'webhook-timestamp': String(m.headers['webhook-timestamp']),
        'webhook-signature': String(m.headers['webhook-signature']),
      });

    server = await startServer(
      redis,
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's' },
    );
    const api = await post(
      `${server.base}/api/endpoints/test`,
      JSON.stringify({ url: receiver.url, secret }),
      { authorization: `Bearer ${server.token}` },
    );
    assert.equal(api.status, 200, api.text);
    assert.equal(api.json.ok, true);
    assert.equal(api.json.deliveries.length, 4);
    assert.equal(receiver.got.length, 8);
    const refused = await post(
      `${server.base}/api/endpoints/test`,
      JSON.stringify({ url: 'http://10.0.0.1/x', secret }),
      { authorization: `Bearer ${server.token}` },
    );
    assert.equal(refused.json.ok, false);
    assert.match(refused.json.deliveries[0].error, /internal address/);
    await receiver.close();
  });

  it('the documented Node receiver (docs/receivers.md) verifies and de-duplicates what a real pushci sends', async () => {
    const port = await freePort();
    const { child, lines } = await startDocumentedReceiver(port, secret);
    children.push(child);

    await server.close();
    server = await startServer(
      redis,
      {
        'p.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\nnotify:\n  - url: http://127.0.0.1:${port}/\n    secret: \${{ env.CB }}\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', CB: secret },
    );
    const res = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]! }),
      's',
    );
    const id = res.json.builds[0].id as string;
    await waitFor(
      () => lines.some((l) => l.startsWith('build.completed')),
      20_000,
      'build.completed at the documented receiver',
    );
    const completed = `msg_${id}_build.completed_0`;
    // The receiver can log the message before the delivery job is marked done (409 until then).
    const redeliver = () =>
      post(`${server.base}/api/deliveries/${completed}/redeliver`, '', {
        authorization: `Bearer ${server.token}`,
      });
    let redo = await redeliver();
    for (let i = 0; redo.status === 409 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      redo = await redeliver();
    }
    assert.equal(redo.status, 202, redo.text);
    await waitFor(
      async () =>
        (
          (await (await server.api(`/api/deliveries/${completed}`)).json()) as {
            attempt_log: unknown[];
          }
        ).attempt_log.length === 2,
      10_000,
      'the redelivery',
    );
    assert.deepEqual(
      lines.map((l) => l.split(' ')[0]).sort(),
      ['build.completed', 'build.queued', 'build.started'],
      'each message handled once',
    );
    assert.match(
      lines.find((l) => l.startsWith('build.completed'))!,
      / success [0-9a-f]{7} msg_/,
    );
  });

  it('the documented shell receiver (docs/receivers.md) verifies a real signature and refuses a forged one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-readme-sh-'));
    writeFileSync(join(dir, 'verify.sh'), receiverExample('shell'), { mode: 0o755 });
    const body = JSON.stringify({ type: 'build.completed', data: { build: { id: 'x' } } });
    const id = 'msg_shell_test';
    const now = new Date();
    const sig = new Webhook(secret).sign(id, now, body);
    const ts = String(Math.floor(now.getTime() / 1000));
    const run = (s: string) => {
      try {
        return execFileSync('sh', [join(dir, 'verify.sh'), id, ts, s], {
          input: body,
          env: { PATH: process.env.PATH!, CALLBACK_SECRET: secret, SEEN_FILE: join(dir, 'seen') },
          encoding: 'utf8',
          stdio: ['pipe', 'pipe', 'pipe'],
        });
      } catch {
        return 'refused';
      }
    };
    assert.equal(run(`v1,AAAA ${sig}`).trim(), `verified ${id}`);
    assert.equal(run(sig).trim(), '', 'a second delivery of the same id is skipped');
    assert.equal(run('v1,' + Buffer.alloc(32).toString('base64')), 'refused');
  });
});
