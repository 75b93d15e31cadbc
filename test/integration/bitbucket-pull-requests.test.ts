import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { post } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { buildEnded, jobLog, logValue } from '../helpers/push-build.ts';

const SECRET = 'bb-secret-' + randomUUID();
const DEPLOY = 'deploy-key-' + randomUUID();
const FIX = join(import.meta.dirname, '../fixtures');
const fixture = () =>
  JSON.parse(readFileSync(join(FIX, 'bitbucket/pull-request.json'), 'utf8')) as Record<string, any>;
const hex = (body: string) => createHmac('sha256', SECRET).update(body).digest('hex');
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Eve',
  GIT_AUTHOR_EMAIL: 'eve@example.com',
  GIT_COMMITTER_NAME: 'Eve',
  GIT_COMMITTER_EMAIL: 'eve@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * Bitbucket Cloud pull requests end to end: signed captured-shape payloads that name commits by
 * 12-character prefixes, a real base repository with the source branch, a real fork repository under
 * PUSHCI_BITBUCKET_URL (its commit exists nowhere else), a real worker and sandbox.
 */
describe('Bitbucket pull request builds', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let head: string;
  let forkHead: string;
  let api: Server;
  /** What the fake Bitbucket API received: build statuses. */
  const statuses: Array<{ url: string; auth: string; body: { key: string; state: string; url: string } }> =
    [];

  before(async () => {
    api = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        statuses.push({
          url: req.url!,
          auth: req.headers.authorization ?? '',
          body: JSON.parse(text || 'null'),
        });
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"type":"commitstatus"}');
      });
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    redis = await startRedis();
    repo = makeRepo([{ 'a.txt': 'base\n' }]);
    repo.git('checkout', '-q', '-b', 'feature/widget');
    repo.commit({ 'docs/widget.md': 'the widget\n' }, 'document the widget');
    head = repo.commit({ 'src/widget.txt': 'widget\n' }, 'add the widget');
    repo.git('checkout', '-q', 'main');
    // The fork: a repository of its own under the Bitbucket base URL, with a commit only it has.
    const bitbucket = mkdtempSync(join(tmpdir(), 'pushci-test-bitbucket-'));
    mkdirSync(join(bitbucket, 'eve'));
    const fork = join(bitbucket, 'eve', 'repo_name.git');
    execFileSync('git', ['clone', '-q', repo.dir, fork], { env: GIT_ENV });
    const inFork = (...args: string[]) =>
      execFileSync('git', args, { cwd: fork, env: GIT_ENV, encoding: 'utf8' }).trim();
    inFork('checkout', '-q', '-b', 'fix', 'origin/main');
    mkdirSync(join(fork, 'src'));
    execFileSync('sh', ['-c', 'echo from-a-fork > src/fork.txt'], { cwd: fork });
    inFork('add', '-A');
    inFork('commit', '-q', '-m', 'fork change');
    forkHead = inFork('rev-parse', 'HEAD');
    server = await startServer(
      redis,
      {
        'pr.yml': `
name: bb-pr
repository: team_name/repo_name
forge: bitbucket
clone-url: ${repo.dir}
on: pull_request
commit-status: true
pull-requests:
  forks: run
jobs:
  build:
    env:
      TOKEN: \${{ secrets.DEPLOY }}
    steps:
      - name: show
        run: |
          echo "OUT-EVENT $CI_PIPELINE_EVENT $CI_COMMIT_PULL_REQUEST $CI_COMMIT_SOURCE_BRANCH $CI_COMMIT_TARGET_BRANCH $CI_COMMIT_PULL_REQUEST_FORK"
          echo "OUT-HEAD $(git rev-parse HEAD) $CI_COMMIT_SHA"
          echo "OUT-TOKEN [$TOKEN]"
          { env; cat /proc/*/environ 2>/dev/null | tr '\\0' '\\n'; } | grep -E 'deploy-key-[0-9a-f]{8}' | sed 's/^/LEAK /' || true
`,
        // Builds only when the whole pull request (merge base to head) touches docs: the docs commit is
        // not the head commit, so this needs the target branch's commit resolved as the base.
        'docs.yml': `
name: bb-docs
repository: team_name/repo_name
forge: bitbucket
clone-url: ${repo.dir}
on:
  pull_request:
    paths: ['docs/**']
jobs:
  build:
    steps:
      - run: test -f docs/widget.md
`,
      },
      {
        BITBUCKET_WEBHOOK_SECRET: SECRET,
        PUSHCI_SECRET_DEPLOY: DEPLOY,
        PUSHCI_BITBUCKET_URL: bitbucket,
        PUSHCI_BITBUCKET_API_URL: `http://127.0.0.1:${(api.address() as AddressInfo).port}`,
        BITBUCKET_TOKEN: 'bb-token',
      },
    );
  });
  after(async () => {
    await server?.close();
    await new Promise((r) => api?.close(r));
    await redis?.stop();
  });

  const final = (id: string) => buildEnded(server, id, 60_000);
  const log = (id: string) => jobLog(server, id, 'build');
  const line = logValue;
  const send = (event: string, change: (p: Record<string, any>) => void, delivery = randomUUID()) => {
    const p = fixture();
    change(p);
    const body = JSON.stringify(p);
    return post(`${server.base}/webhooks/bitbucket`, body, {
      'x-event-key': event,
      'x-request-uuid': delivery,
      'x-hub-signature': `sha256=${hex(body)}`,
    });
  };
  /** The pull request as Bitbucket names it: commits by their first 12 characters. */
  const pr = (o: { id?: number; head: string; fork?: string }) => (p: Record<string, any>) => {
    p.pullrequest.id = o.id ?? 4;
    p.pullrequest.source.commit.hash = o.head.slice(0, 12);
    p.pullrequest.destination.commit.hash = repo.commits[0]!.slice(0, 12);
    if (o.fork) {
      p.pullrequest.source.repository.full_name = o.fork;
      p.pullrequest.source.repository.uuid = `{${randomUUID()}}`;
      p.pullrequest.source.branch.name = 'fix';
    }
  };

  it('builds a same-repository pull request at the full commit its prefix names, with its secrets', async () => {
    const res = await send('pullrequest:created', pr({ head }));
    assert.equal(res.status, 202, res.text);
    const byName = new Map<string, string>(
      res.json.builds.map((b: { pipeline: string; id: string }) => [b.pipeline, b.id]),
    );
    assert.deepEqual([...byName.keys()].sort(), ['bb-docs', 'bb-pr']);
    const v = await final(byName.get('bb-pr')!);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.event, 'pull_request');
    assert.equal(v.sha, head, 'the full commit id, resolved through the source branch');
    assert.equal(v.before, repo.commits[0], 'the target branch’s commit');
    assert.equal(v.ref, 'refs/pull-requests/4/from');
    assert.deepEqual(v.pull_request, {
      number: 4,
      action: 'opened',
      title: 'Add the widget',
      source_branch: 'feature/widget',
      target_branch: 'main',
      head_repository: 'team_name/repo_name',
      fork: false,
    });
    const text = await log(v.id);
    assert.equal(line(text, 'EVENT'), 'pull_request 4 feature/widget main false');
    assert.equal(line(text, 'HEAD'), `${head} ${head}`);
    assert.notEqual(line(text, 'TOKEN'), '[]', 'a same-repository pull request gets the secret');
    // Build statuses go to the full commit, through Bitbucket's build status API, linked to the build.
    const mine = () => statuses.filter((s) => s.body.url.endsWith(v.id));
    await waitFor(() => mine().some((s) => s.body.state === 'SUCCESSFUL'), 15_000, 'the final status');
    for (const s of mine()) {
      assert.equal(s.url, `/2.0/repositories/team_name/repo_name/commit/${head}/statuses/build`);
      assert.equal(s.auth, 'Bearer bb-token');
      assert.equal(s.body.key, 'pushci/bb-pr');
    }
    assert.ok(
      mine().some((s) => s.body.state === 'INPROGRESS'),
      JSON.stringify(mine()),
    );
    const docs = await final(byName.get('bb-docs')!);
    assert.equal(docs.status, 'success', 'the path filter saw the whole pull request, not only its head');
  });

  it('builds a head once per target branch, however many updates name it (Bitbucket sends updated for edits too)', async () => {
    const first = await send('pullrequest:updated', pr({ head }));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.json.duplicate, true);
    assert.match(
      first.json.reason,
      new RegExp(`commit ${head} of pull request #4 into main was already received`),
    );
    assert.equal(first.json.builds.length, 2, 'the builds of the head’s first delivery');
    // Moved to another target branch, the same head is a different change: it builds again.
    const retargeted = await send('pullrequest:updated', (p) => {
      pr({ head })(p);
      p.pullrequest.destination.branch.name = 'release';
    });
    assert.equal(retargeted.status, 202, retargeted.text);
    const id = retargeted.json.builds.find((b: { pipeline: string }) => b.pipeline === 'bb-pr').id as string;
    const v = await final(id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.sha, head);
    assert.equal(v.pull_request?.target_branch, 'release');
  });

  it('builds the newer head when the branch moved on, and nothing for the stale prefix', async () => {
    repo.git('checkout', '-q', 'feature/widget');
    const newer = repo.commit({ 'src/widget.txt': 'widget 2\n' }, 'improve the widget');
    repo.git('checkout', '-q', 'main');
    const stale = await send('pullrequest:updated', pr({ id: 6, head }));
    assert.equal(stale.status, 200, stale.text);
    assert.deepEqual(stale.json.builds, []);
    assert.match(
      stale.json.reason,
      new RegExp(`branch feature/widget moved on from ${head.slice(0, 12)} to ${newer.slice(0, 12)}`),
    );
    const res = await send('pullrequest:updated', pr({ head: newer }));
    assert.equal(res.status, 202, res.text);
    const id = res.json.builds.find((b: { pipeline: string }) => b.pipeline === 'bb-pr').id as string;
    const v = await final(id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.sha, newer);
    assert.equal(v.pull_request?.action, 'synchronize');
  });

  it('fetches a fork’s head from the fork’s own repository and gives it no secrets', async () => {
    const res = await send('pullrequest:created', pr({ id: 5, head: forkHead, fork: 'eve/repo_name' }));
    assert.equal(res.status, 202, res.text);
    const id = res.json.builds.find((b: { pipeline: string }) => b.pipeline === 'bb-pr').id as string;
    const v = await final(id);
    assert.equal(v.status, 'success', v.reason ?? '');
    assert.equal(v.sha, forkHead, 'a commit only the fork has');
    assert.equal(v.pull_request?.fork, true);
    assert.equal(v.pull_request?.head_repository, 'eve/repo_name');
    const text = await log(v.id);
    assert.equal(line(text, 'EVENT'), 'pull_request 5 fix main true');
    assert.equal(line(text, 'HEAD'), `${forkHead} ${forkHead}`);
    assert.equal(line(text, 'TOKEN'), '[]');
    assert.ok(!text.includes(DEPLOY), 'the secret appears nowhere in the log');
    assert.ok(!text.includes('LEAK '), 'no process environment the step can read holds it');
  });

  it('never builds a clone URL from a fork name that could leave the path, and says when a fork cannot be read', async () => {
    const evil = await send('pullrequest:created', pr({ id: 7, head: forkHead, fork: 'eve/../repo_name' }));
    assert.equal(evil.status, 200, evil.text);
    assert.deepEqual(evil.json.builds, []);
    assert.match(evil.json.reason, /source repository eve\/\.\.\/repo_name cannot be fetched/);
    const missing = await send('pullrequest:created', pr({ id: 8, head: forkHead, fork: 'eve/missing' }));
    assert.equal(missing.status, 502, missing.text);
    assert.equal(missing.json.error, 'repository_unavailable');
    assert.match(missing.json.message, /could not read branch fix of eve\/missing .*; redeliver later/);
    assert.ok(!missing.text.includes(tmpdir()), 'the clone URL is not shown');
  });

  it('acknowledges the pull request events that build nothing', async () => {
    for (const event of ['pullrequest:fulfilled', 'pullrequest:rejected']) {
      const res = await send(event, pr({ head }));
      assert.equal(res.status, 202, res.text);
      assert.deepEqual(res.json.builds, []);
      assert.match(res.json.reason, /only created and updated build/);
    }
  });
});
