import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { spawnPushci } from '../helpers/process.ts';
import { githubPullRequest, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';
import { buildEnded, buildView, jobLog, logValue } from '../helpers/push-build.ts';

const SECRET = 'gh-secret-' + randomUUID();
const DEPLOY = 'deploy-key-' + randomUUID();

/**
 * Pull requests end to end: a real repository that carries GitHub's pull request refs (a fork's commit
 * exists only under refs/pull/N/head, as on GitHub), signed captured-shape payloads, a real worker and
 * sandbox.
 */
describe('pull request builds', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let same: string;
  let api: Server;
  /** What the fake GitHub API received: commit statuses. */
  const statuses: Array<{ url: string; body: { state: string; description: string; target_url: string } }> =
    [];
  let forkHead: string;

  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'base\n' }]);
    repo.git('checkout', '-q', '-b', 'feature');
    same = repo.commit({ 'src/same.txt': 'same-repo change\n' }, 'same-repo change');
    repo.git('update-ref', 'refs/pull/7/head', same);
    // The fork's commit: not on any branch of the base repository, only under its pull request ref.
    repo.git('checkout', '-q', '--detach', repo.commits[0]!);
    forkHead = repo.commit({ 'src/fork.txt': 'from a fork\n' }, 'fork change');
    repo.git('update-ref', 'refs/pull/8/head', forkHead);
    repo.git('checkout', '-q', 'main');
    repo.git('branch', '-D', 'feature');
    repo.git('update-ref', 'refs/heads/feature', same);
    api = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        statuses.push({ url: req.url!, body: JSON.parse(text || 'null') });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"id":1}');
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    server = await startServer(
      redis,
      {
        'pr.yml': `
name: pr
repository: octo-org/web
clone-url: ${repo.dir}
on:
  pull_request:
    branches: [main]
pull-requests:
  forks: run
jobs:
  build:
    network: host
    env:
      TOKEN: \${{ secrets.DEPLOY }}
    steps:
      - name: show
        run: |
          echo "OUT-EVENT $CI_PIPELINE_EVENT $CI_COMMIT_PULL_REQUEST $CI_COMMIT_SOURCE_BRANCH $CI_COMMIT_TARGET_BRANCH $CI_COMMIT_PULL_REQUEST_FORK"
          echo "OUT-HEAD $(git rev-parse HEAD) $CI_COMMIT_SHA"
          echo "OUT-TOKEN [$TOKEN]"
          # What a hostile change would try: every variable, every process environment it can see.
          { env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; } | grep -E 'deploy-key-[0-9a-f]{8}' | sed 's/^/LEAK /' || true
`,
        'gated.yml': `
name: gated
repository: octo-org/gated
clone-url: ${repo.dir}
on: [push, pull_request]
commit-status: true
jobs:
  build:
    env:
      TOKEN: \${{ secrets.DEPLOY }}
    steps:
      - name: show
        run: echo "OUT-TOKEN [$TOKEN]"
  # Runs after a cancel of a running build (GitHub's rule), never for a build still waiting for approval.
  after:
    needs: build
    if: always()
    steps:
      - run: echo "ALWAYS-RAN-$((40+2))"
`,
        'closed.yml': `
name: closed
repository: octo-org/closed
clone-url: ${repo.dir}
on: pull_request
pull-requests:
  forks: never
jobs:
  build:
    steps:
      - run: 'true'
`,
        'slow.yml': `
name: slow
repository: octo-org/slow
clone-url: ${repo.dir}
on: pull_request
jobs:
  build:
    steps:
      - run: sleep 60
`,
        'push.yml': `
name: push-only
repository: octo-org/web
clone-url: ${repo.dir}
on: push
jobs:
  build:
    steps:
      - run: 'true'
`,
      },
      {
        GITHUB_WEBHOOK_SECRET: SECRET,
        PUSHCI_SECRET_DEPLOY: DEPLOY,
        GITHUB_TOKEN: 'ghp_test',
        PUSHCI_GITHUB_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
      },
    );
  });
  after(async () => {
    await server?.close();
    await new Promise((r) => api?.close(r));
    await redis?.stop();
  });

  const view = (id: string) => buildView(server, id);
  const final = (id: string) => buildEnded(server, id, 60_000);
  const log = (id: string) => jobLog(server, id, 'build');
  const line = logValue;
  const sendPr = (o: Parameters<typeof githubPullRequest>[0]) =>
    sendGithub(server.base, githubPullRequest(o), SECRET, { 'x-github-event': 'pull_request' });

  it('builds a same-repository pull request at its head, with the secrets a push would get', async () => {
    const res = await sendPr({ number: 7, head: same, base: repo.commits[0]!, source: 'feature' });
    assert.equal(res.status, 202, res.text);
    assert.deepEqual(
      res.json.builds.map((b: { pipeline: string }) => b.pipeline),
      ['pr'],
      'only the pipeline with on.pull_request',
    );
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.event, 'pull_request');
    assert.equal(v.sha, same);
    assert.equal(v.ref, 'refs/pull/7/head');
    assert.deepEqual(v.pull_request, {
      number: 7,
      action: 'opened',
      title: 'A change',
      source_branch: 'feature',
      target_branch: 'main',
      head_repository: 'octo-org/web',
      fork: false,
    });
    const text = await log(v.id);
    assert.equal(line(text, 'EVENT'), 'pull_request 7 feature main false');
    assert.equal(line(text, 'HEAD'), `${same} ${same}`);
    // The control: a same-repository pull request gets the secret (masked in its log).
    assert.equal(line(text, 'TOKEN'), '[********]', 'the secret is set, and masked in the log');
    assert.ok(!text.includes(DEPLOY), 'the secret itself appears nowhere in the log');
  });

  it('gives a fork’s pull request no secrets, however its step looks for them', async () => {
    const res = await sendPr({
      number: 8,
      head: forkHead,
      base: repo.commits[0]!,
      headRepo: 'mallory/web',
      source: 'main',
    });
    assert.equal(res.status, 202, res.text);
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.sha, forkHead, 'the fork’s commit, fetched through refs/pull/8/head');
    assert.equal(v.pull_request?.fork, true);
    assert.equal(v.pull_request?.head_repository, 'mallory/web');
    const text = await log(v.id);
    assert.equal(line(text, 'EVENT'), 'pull_request 8 main main true');
    assert.equal(line(text, 'TOKEN'), '[]');
    assert.ok(!text.includes(DEPLOY), 'the secret appears nowhere in the log');
    assert.ok(!text.includes('LEAK '), 'no process environment the step can read holds it');
    assert.match(text, /comes from a fork \(mallory\/web\): no secrets, sandbox only, network "default"/);
  });

  it('lists builds by event and status, and says which events there are', async () => {
    const list = async (q: string) =>
      ((await (await server.api(`/api/builds?${q}`)).json()) as { builds: BuildView[] }).builds;
    const prs = await list('event=pull_request');
    assert.ok(prs.length >= 2);
    assert.ok(prs.every((b) => b.event === 'pull_request'));
    assert.deepEqual(await list('event=schedule'), []);
    // pushci builds shows a pull request by its number, branches and title, not refs/pull/7/head.
    const cli = spawnPushci(['builds', '--event', 'pull_request'], {
      PUSHCI_URL: server.base,
      PUSHCI_API_TOKEN: server.token,
    });
    assert.equal(await cli.exited, 0, cli.output.join(''));
    assert.match(
      cli.output.join(''),
      /^success +pr#\d+ +#7 feature→main +pull_request +\w{7} +\w+ +A change$/m,
    );
    assert.doesNotMatch(cli.output.join(''), /refs\/pull/);
    const bad = await server.api('/api/builds?event=pr');
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { message: string }).message,
      /event is one of push, tag, pull_request/,
    );
  });

  it('skips pull requests into other branches and acknowledges closed ones', async () => {
    const other = await sendPr({ number: 7, head: same, base: repo.commits[0]!, target: 'release' });
    assert.equal(other.status, 200, other.text);
    assert.deepEqual(other.json.builds, []);
    assert.match(other.json.reason, /no pipeline matches/);
    const closed = await sendPr({ action: 'closed', number: 7, head: same, base: repo.commits[0]! });
    assert.equal(closed.status, 202);
    assert.deepEqual(closed.json.builds, []);
    assert.match(closed.json.reason, /ignored: pull_request \(pull request closed/);
  });

  it('holds a fork’s pull request for approval by default, supersedes it with a newer head, and runs it once approved', async () => {
    const fork = { repo: 'octo-org/gated', headRepo: 'mallory/gated', source: 'patch-1' } as const;
    const first = await sendPr({ ...fork, number: 8, head: forkHead, base: repo.commits[0]! });
    assert.equal(first.status, 202, first.text);
    assert.equal(first.json.builds[0].status, 'pending-approval');
    const held = first.json.builds[0].id as string;
    await new Promise((r) => setTimeout(r, 1000));
    let v = await view(held);
    assert.equal(v.status, 'pending-approval', 'nothing runs before someone approves');
    assert.match(
      v.reason ?? '',
      /waiting for approval: pull request #8 comes from a fork \(mallory\/gated\)/,
    );
    assert.deepEqual(
      v.jobs.map((j) => j.status),
      ['pending', 'pending'],
    );

    // The fork pushes again: the build of the old head is superseded while it still waits.
    repo.git('checkout', '-q', '--detach', forkHead);
    const newer = repo.commit({ 'src/fork.txt': 'from a fork, again\n' }, 'fork change 2');
    repo.git('update-ref', 'refs/pull/8/head', newer);
    repo.git('checkout', '-q', 'main');
    const second = await sendPr({
      ...fork,
      number: 8,
      head: newer,
      base: repo.commits[0]!,
      action: 'synchronize',
    });
    const waiting = second.json.builds[0].id as string;
    v = await final(held);
    assert.equal(v.status, 'canceled');
    assert.equal(v.superseded_by, waiting);
    // Attack: cancelling a build that waits for approval must not run its always() job (the fork's code).
    assert.deepEqual(
      v.jobs.map((j) => j.status),
      ['canceled', 'canceled'],
    );
    await new Promise((r) => setTimeout(r, 1000));
    assert.doesNotMatch(
      await (await server.api(`/api/builds/${held}/jobs/after/log`)).text(),
      /ALWAYS-RAN-42/,
    );

    const bad = await server.api(`/api/builds/${waiting}/approve`, {
      method: 'POST',
      body: JSON.stringify({ by: 'x'.repeat(200) }),
    });
    assert.equal(bad.status, 400);
    const ok = await server.api(`/api/builds/${waiting}/approve`, {
      method: 'POST',
      body: JSON.stringify({ by: 'alice' }),
    });
    assert.equal(ok.status, 202, await ok.text());
    v = await final(waiting);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.sha, newer);
    assert.equal(v.approval?.by, 'alice');
    assert.ok(Date.parse(v.approval!.at) <= Date.now());
    assert.equal(line(await log(waiting), 'TOKEN'), '[]', 'approved, and still without secrets');
    // Commit statuses go to the head commit and say what is going on.
    const mine = () => statuses.filter((s) => s.body.target_url.endsWith(waiting));
    await waitFor(() => mine().some((s) => s.body.state === 'success'), 15_000, 'the final status');
    for (const s of mine()) assert.equal(s.url, `/repos/octo-org/gated/statuses/${newer}`);
    for (const s of mine()) assert.equal(s.body.target_url, `${server.config.publicUrl}/#/builds/${waiting}`);
    const said = mine().map((s) => `${s.body.state}: ${s.body.description}`);
    assert.ok(said.includes('pending: waiting for approval: a pull request from a fork'), String(said));
    assert.ok(said.includes('success: fork, no secrets: passed in 0 s'), String(said));
    const again = await server.api(`/api/builds/${waiting}/approve`, { method: 'POST' });
    assert.equal(again.status, 409);
    assert.equal(((await again.json()) as { error: string }).error, 'conflict');
  });

  it('approves from the CLI, recording who', async () => {
    repo.git('update-ref', 'refs/pull/12/head', forkHead);
    const res = await sendPr({
      repo: 'octo-org/gated',
      headRepo: 'mallory/gated',
      number: 12,
      head: forkHead,
      base: repo.commits[0]!,
    });
    const id = res.json.builds[0].id as string;
    const p = spawnPushci(['approve', id, '--as', 'carol'], {
      PUSHCI_URL: server.base,
      PUSHCI_API_TOKEN: server.token,
    });
    assert.equal(await p.exited, 0, p.output.join(''));
    assert.match(p.output.join(''), new RegExp(`approved ${id} as carol; it is queued`));
    const v = await final(id);
    assert.equal(v.status, 'success');
    assert.equal(v.approval?.by, 'carol');
  });

  it('runs a same-repository pull request of the same pipeline at once (the control)', async () => {
    const res = await sendPr({ repo: 'octo-org/gated', number: 7, head: same, base: repo.commits[0]! });
    assert.equal(res.json.builds[0].status, 'queued');
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'success');
    assert.equal(v.approval, null);
    assert.notEqual(line(await log(v.id), 'TOKEN'), '[]');
  });

  it('records a fork’s pull request as skipped where the pipeline says forks: never', async () => {
    const res = await sendPr({
      repo: 'octo-org/closed',
      headRepo: 'mallory/closed',
      number: 8,
      head: forkHead,
      base: repo.commits[0]!,
    });
    assert.equal(res.status, 202, res.text);
    const v = await view(res.json.builds[0].id);
    assert.equal(v.status, 'skipped');
    assert.match(v.reason ?? '', /does not build forks \(pull-requests.forks: never\)/);
  });

  it('cancels the running build of a pull request when a new head is pushed to it', async () => {
    repo.git('update-ref', 'refs/pull/11/head', same);
    const first = await sendPr({ repo: 'octo-org/slow', number: 11, head: same, base: repo.commits[0]! });
    const old = first.json.builds[0].id as string;
    await waitFor(async () => (await view(old)).status === 'running', 30_000, 'the first build running');
    repo.git('checkout', '-q', '--detach', same);
    const next = repo.commit({ 'n.txt': 'next\n' }, 'next head');
    repo.git('checkout', '-q', 'main');
    repo.git('update-ref', 'refs/pull/11/head', next);
    const second = await sendPr({
      repo: 'octo-org/slow',
      number: 11,
      head: next,
      base: repo.commits[0]!,
      action: 'synchronize',
    });
    const fresh = second.json.builds[0].id as string;
    const v = await final(old);
    assert.equal(v.status, 'canceled');
    assert.equal(v.superseded_by, fresh);
    assert.equal((await view(fresh)).sha, next);
    await server.api(`/api/builds/${fresh}/cancel`, { method: 'POST' });
    await final(fresh);
  });

  it('says which ref a clone URL lacks and how to add it, then builds once it is there', async () => {
    // A clone of the forge has the branch but not the forge's refs/pull/9/head.
    repo.git('checkout', '-q', '-b', 'topic');
    const head = repo.commit({ 'topic.txt': 'topic\n' }, 'topic change');
    repo.git('checkout', '-q', 'main');
    const res = await sendPr({ number: 9, head, base: repo.commits[0]!, source: 'topic' });
    assert.equal(res.status, 202, res.text);
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'error');
    const reason = v.jobs[0]!.reason ?? '';
    assert.match(reason, new RegExp(`refs/pull/9/head is not in the repository at ${repo.dir}`));
    assert.match(reason, /git fetch origin '\+refs\/pull\/\*\/head:refs\/pull\/\*\/head'/);
    assert.match(reason, new RegExp(`git update-ref refs/pull/9/head ${head}`));
    assert.match(await log(v.id), /pushci: error: refs\/pull\/9\/head is not in the repository at/);
    // The control: with the ref there, as the advice says, the same pull request builds.
    repo.git('update-ref', 'refs/pull/9/head', head);
    const again = await sendPr({
      number: 9,
      head,
      base: repo.commits[0]!,
      source: 'topic',
      action: 'synchronize',
    });
    const ok = await final(again.json.builds[0].id);
    assert.equal(ok.status, 'success', ok.jobs[0]?.reason ?? '');
    assert.equal(line(await log(ok.id), 'HEAD'), `${head} ${head}`);
  });

  it('refuses a build whose commit is not the pull request’s (the webhook named another)', async () => {
    const stray = repo.commit({ 'x.txt': 'not in any pull request\n' });
    repo.git('reset', '-q', '--hard', repo.commits[0]!);
    repo.git('update-ref', '-d', 'refs/heads/main');
    repo.git('update-ref', 'refs/heads/main', repo.commits[0]!);
    const res = await sendPr({ number: 7, head: stray, base: repo.commits[0]!, action: 'synchronize' });
    assert.equal(res.status, 202, res.text);
    const v = await final(res.json.builds[0].id);
    assert.equal(v.status, 'error');
    assert.match(v.jobs[0]!.reason ?? '', /refs\/pull\/7\/head points at/);
    assert.match(v.reason ?? '', /^job \S+: refs\/pull\/7\/head points at/, 'the build says why');
  });
});

describe('a fork’s pull request and the host runner', () => {
  let redis: TestRedis;
  let server: TestServer;
  let repo: TestRepo;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': '1' }]);
    repo.git('update-ref', 'refs/pull/3/head', repo.commits[0]!);
    server = await startServer(
      redis,
      {
        'pr.yml': `name: pr\nrepository: octo-org/web\nclone-url: ${repo.dir}\non: pull_request\npull-requests:\n  forks: run\njobs:\n  build:\n    steps:\n      - run: echo ran > "$CI_WORKSPACE/../../ran"\n`,
      },
      { GITHUB_WEBHOOK_SECRET: SECRET, PUSHCI_RUNNER: 'host' },
    );
  });
  after(async () => {
    await server?.close();
    await redis?.stop();
  });

  it('errors the job instead of running a fork’s code without the sandbox; a same-repository one runs', async () => {
    const send = (headRepo: string) =>
      sendGithub(
        server.base,
        githubPullRequest({ number: 3, head: repo.commits[0]!, base: repo.commits[0]!, headRepo }),
        SECRET,
        { 'x-github-event': 'pull_request' },
      );
    const final = (id: string) => buildEnded(server, id, 30_000);
    const fork = await final((await send('mallory/web')).json.builds[0].id);
    assert.equal(fork.status, 'error');
    assert.match(
      fork.jobs[0]!.reason ?? '',
      /comes from a fork \(mallory\/web\): it runs only in the sandbox/,
    );
    assert.equal(fork.jobs[0]!.runner, 'host');
    const ran = join(server.config.dataDir, 'workspaces', 'ran');
    assert.equal(existsSync(ran), false, 'no step of the fork ran');
    const same = await final((await send('octo-org/web')).json.builds[0].id);
    assert.equal(
      same.status,
      'success',
      'the control: the same pull request from the repository itself runs',
    );
    assert.equal(existsSync(ran), true);
  });
});
