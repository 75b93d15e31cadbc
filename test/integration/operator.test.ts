import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, post, sendGithub, whsec } from '../helpers/payloads.ts';
import { spawnPushci } from '../helpers/process.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

const TOKEN = 'operator-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('operator surface: API, events, metrics, badges, admin, CLI', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const ids: Record<string, string[]> = { web: [], api: [] };
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': '1' }, { 'a.txt': '2' }]);
    receiver = await startReceiver();
    const p = (name: string, run: string) =>
      `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: ${run}\nnotify:\n  - url: ${receiver.url}\n    secret: \${{ env.CB }}\n`;
    server = await startServer(
      redis,
      { 'web.yml': p('web', "printf '\\033[32mgreen\\033[0m done\\n'"), 'api.yml': p('api', 'exit 1') },
      { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: TOKEN, CB: whsec() },
    );
    for (const [name, branch] of [
      ['web', 'main'],
      ['web', 'dev'],
      ['api', 'main'],
      ['web', 'main'],
      ['web', 'main'],
    ] as const) {
      const r = await sendGithub(
        server.base,
        githubPush({
          ref: `refs/heads/${branch}`,
          before: repo.commits[0]!,
          after: repo.commits[1]!,
          repo: `octo-org/${name}`,
        }),
        's',
      );
      ids[name]!.push(r.json.builds[0].id);
    }
    for (const id of [...ids.web!, ...ids.api!]) {
      await waitFor(
        async () =>
          ((v) => ['success', 'failure'].includes(v.status))(
            (await (await fetch(`${server.base}/api/builds/${id}`, { headers: auth })).json()) as BuildView,
          ),
        30_000,
        id,
      );
    }
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
    await redis?.stop();
  });
  const get = async (path: string) =>
    (await (await fetch(`${server.base}${path}`, { headers: auth })).json()) as any;

  it('lists builds newest first, filtered, with cursor pagination', async () => {
    const all = await get('/api/builds?limit=50');
    assert.equal(all.builds.length, 5);
    assert.deepEqual(
      all.builds.map((b: BuildView) => b.id),
      [...ids.web!, ...ids.api!].sort().reverse(),
    );
    assert.equal(all.next, null);
    const web = await get('/api/builds?pipeline=web&branch=main');
    assert.equal(web.builds.length, 3);
    assert.ok(web.builds.every((b: BuildView) => b.pipeline === 'web' && b.branch === 'main'));
    const failed = await get('/api/builds?status=failure');
    assert.deepEqual(
      failed.builds.map((b: BuildView) => b.id),
      ids.api,
    );
    const byRepo = await get('/api/builds?repository=octo-org/api');
    assert.equal(byRepo.builds.length, 1);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { builds: BuildView[]; next: string | null } = await get(
        `/api/builds?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      assert.ok(page.builds.length <= 2);
      seen.push(...page.builds.map((b) => b.id));
      cursor = page.next;
    } while (cursor);
    assert.deepEqual(
      seen,
      all.builds.map((b: BuildView) => b.id),
      'pages cover every build once, in order',
    );
    const bad = await fetch(`${server.base}/api/builds?status=nope`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.deepEqual(Object.keys((await bad.json()) as object).sort(), ['error', 'message']);
  });

  it('lists pipelines with their problems', async () => {
    const p = await get('/api/pipelines');
    assert.deepEqual(p.pipelines.map((x: { name: string }) => x.name).sort(), ['api', 'web']);
    assert.deepEqual(p.problems, []);
  });

  it('streams build events over SSE', async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.base}/api/events`, { headers: auth, signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body!.getReader();
    await reader.read(); // ": connected"
    const r = await sendGithub(
      server.base,
      githubPush({ before: repo.commits[0]!, after: repo.commits[1]!, repo: 'octo-org/web' }),
      's',
    );
    const id = r.json.builds[0].id as string;
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('"build.completed"') || !text.includes(id))
      text += decoder.decode((await reader.read()).value);
    ac.abort();
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('event: build'))
      .map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)));
    assert.deepEqual(
      events.filter((e) => e.id === id).map((e) => e.type),
      ['build.queued', 'build.started', 'job.completed', 'build.completed'],
    );
  });

  it('exposes Prometheus metrics from this process and from Redis', async () => {
    const text = await (await fetch(`${server.base}/metrics`)).text();
    assert.match(text, /pushci_webhooks_received_total\{forge="github",status="202"\} [6-9]/);
    assert.match(text, /pushci_builds_completed_total\{status="success"\} [4-9]/);
    assert.match(text, /pushci_builds_completed_total\{status="failure"\} 1/);
    assert.match(text, /pushci_job_duration_seconds_bucket\{le="\+Inf"\} [5-9]/);
    assert.match(text, /pushci_job_duration_seconds_count [5-9]/);
    assert.match(text, /pushci_queue_jobs\{queue="jobs",state="waiting"\} 0/);
    assert.match(text, /pushci_deliveries_total\{outcome="delivered"\} \d+/);
    assert.match(text, /pushci_redis_up 1/);
    assert.match(text, /pushci_process_resident_memory_bytes \d+/);
  });

  it('serves badges of the last build per branch, uncached', async () => {
    const main = await fetch(`${server.base}/badge/web.svg?branch=main`);
    assert.equal(main.headers.get('content-type'), 'image/svg+xml');
    assert.match(main.headers.get('cache-control') ?? '', /no-cache/);
    const svg = await main.text();
    assert.match(svg, /<svg[^>]*aria-label="web: success"/);
    assert.match(await (await fetch(`${server.base}/badge/api.svg`)).text(), /aria-label="api: failure"/);
    assert.match(await (await fetch(`${server.base}/badge/none.svg`)).text(), /aria-label="none: unknown"/);
    const again = await fetch(`${server.base}/badge/web.svg?branch=main`, {
      headers: { 'if-none-match': main.headers.get('etag')! },
    });
    assert.equal(again.status, 304);
  });

  it('guards the dashboard data and Bull Board with the token, and the login cookie works', async () => {
    assert.equal((await fetch(`${server.base}/`)).status, 200);
    assert.equal((await fetch(`${server.base}/api/builds`)).status, 401);
    assert.equal((await fetch(`${server.base}/admin/queues`)).status, 401);
    const wrong = await post(`${server.base}/login`, JSON.stringify({ token: 'nope' }), {});
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${server.base}/login`, {
      method: 'POST',
      body: JSON.stringify({ token: TOKEN }),
      headers: { 'content-type': 'application/json' },
    });
    const cookie = ok.headers.get('set-cookie')!;
    assert.match(cookie, /pushci_token=.*httponly/i);
    assert.match(cookie, /samesite=strict/i);
    const jar = { cookie: cookie.split(';')[0]! };
    assert.equal((await fetch(`${server.base}/api/builds`, { headers: jar })).status, 200);
    const board = await fetch(`${server.base}/admin/queues`, { headers: jar });
    assert.equal(board.status, 200);
    assert.match(await board.text(), /<html/i);
    const queues = await fetch(`${server.base}/admin/queues/api/queues?page=1`, { headers: jar });
    assert.equal(queues.status, 200);
    assert.match(await queues.text(), /"name":"jobs"/);
  });

  it('the CLI lists builds, shows logs, triggers with --follow, and redelivers', async () => {
    const env = { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: TOKEN };
    const run = async (args: string[]) => {
      const p = spawnPushci(args, env);
      const code = await p.exited;
      return { code, out: p.output.join('') };
    };
    const builds = await run(['builds', '--pipeline', 'web', '--limit', '2', '--json']);
    assert.equal(builds.code, 0, builds.out);
    assert.equal(JSON.parse(builds.out).builds.length, 2);
    const page1 = await run(['builds', '--pipeline', 'web', '--limit', '2']);
    const cursor = /… more: the same with --cursor (\S+)/.exec(page1.out)?.[1];
    assert.ok(cursor, page1.out);
    const page2 = await run(['builds', '--pipeline', 'web', '--limit', '2', '--cursor', cursor, '--json']);
    const firstIds = JSON.parse(builds.out).builds.map((b: BuildView) => b.id);
    const secondIds = JSON.parse(page2.out).builds.map((b: BuildView) => b.id);
    assert.equal(secondIds.length, 2);
    assert.ok(
      secondIds.every((id: string) => !firstIds.includes(id)),
      'the next page, not the first again',
    );
    const byEvent = await run(['builds', '--event', 'push', '--status', 'failure', '--json']);
    assert.deepEqual(
      JSON.parse(byEvent.out).builds.map((b: BuildView) => b.id),
      ids.api,
    );
    const logs = await run(['logs', ids.web![0]!]);
    assert.equal(logs.code, 0);
    assert.match(logs.out, /── j ──/);
    assert.match(logs.out, /\x1b\[32mgreen\x1b\[0m done/, 'colours reach the log as they were printed');
    const trig = await run(['trigger', 'web', '--branch', 'main', '--follow']);
    assert.equal(trig.code, 0, trig.out);
    assert.match(trig.out, /started web#\d+/);
    assert.match(trig.out, /web#\d+ success/);
    const failing = await run(['trigger', 'api', '--branch', 'main', '--follow']);
    assert.equal(failing.code, 1, 'a failed build fails the command');
    const delivery = `msg_${ids.web![0]}_build.completed_0`;
    const redo = await run(['redeliver', delivery]);
    assert.equal(redo.code, 0, redo.out);
    assert.match(redo.out, new RegExp(`delivering ${delivery} again`));
    const noToken = spawnPushci(['builds'], { PUSHCI_URL: server.base });
    assert.equal(await noToken.exited, 1);
    assert.match(noToken.output.join(''), /set PUSHCI_API_TOKEN/);
  });

  it('pushci logs exits 1 for a failed build, and an unknown job or build is one line, not a stack', async () => {
    const env = { PUSHCI_URL: server.base, PUSHCI_API_TOKEN: TOKEN };
    const run = async (args: string[]) => {
      const p = spawnPushci(args, env);
      const code = await p.exited;
      return { code, out: p.output.join('') };
    };
    const failed = await run(['logs', ids.api![0]!]);
    assert.equal(failed.code, 1, 'the README: exit code 1 when the build failed');
    assert.match(failed.out, /── j ──/);
    assert.match(failed.out, /api#1 failure/);
    assert.equal((await run(['logs', ids.web![0]!])).code, 0, 'control: a green build exits 0');
    const job = await run(['logs', ids.web![0]!, '--job', 'nope']);
    assert.equal(job.code, 1);
    assert.equal(job.out.trim(), `pushci: build ${ids.web![0]} has no job "nope"; its jobs: j`);
    const build = await run(['logs', 'nosuchbuild']);
    assert.equal(build.code, 1);
    assert.equal(build.out.trim().split('\n').length, 1, build.out);
    assert.match(build.out, /^pushci: 404: /);
  });
});
