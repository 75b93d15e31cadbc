import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPullRequest, githubPush, sendGithub } from '../helpers/payloads.ts';
import { type PushciProcess } from '../helpers/process.ts';
import { waitFor, waitForHttp } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
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
    await waitForHttp(`${url}/healthz`, { ms: 60_000, what: 'the server' });
    // The dashboard link init printed logs in with the token it wrote.
    const login = /on the dashboard:\s+(\S+)/.exec(out)?.[1];
    assert.equal(login, `${url}/login?token=${encodeURIComponent(env.PUSHCI_API_TOKEN!)}`);
    const page = await fetch(login!, { redirect: 'manual' });
    assert.match(page.headers.get('set-cookie') ?? '', /HttpOnly/i, `${page.status}`);
    assert.match(out, /npx pushci builds, then npx pushci logs --follow <id>/);
    const res = await sendGithub(
      url,
      githubPush({ before: repo.commits[0]!, after: repo.commits[0]!, repo: 'octo-org/demo' }),
      secret,
    );
    assert.equal(res.status, 202, res.text);
    const auth = { authorization: `Bearer ${env.PUSHCI_API_TOKEN}` };
    const green = (id: string) =>
      waitFor(
        async () =>
          ((b) => (b.status === 'success' ? b : null))(
            (await (await fetch(`${url}/api/builds/${id}`, { headers: auth })).json()) as BuildView,
          ),
        30_000,
        `build ${id} green`,
      );
    const v = await green(res.json.builds[0].id);
    assert.equal(v.pipeline, 'demo');
    // The hook sends pull requests too (init says so): the pipeline it wrote builds them.
    repo.git('update-ref', 'refs/pull/3/head', repo.commits[0]!);
    const pr = await sendGithub(
      url,
      githubPullRequest({ number: 3, head: repo.commits[0]!, base: repo.commits[0]!, repo: 'octo-org/demo' }),
      secret,
      { 'x-github-event': 'pull_request' },
    );
    assert.equal(pr.status, 202, pr.text);
    assert.equal((await green(pr.json.builds[0].id)).event, 'pull_request');
  });
});
