import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { JobCredentials } from '../../src/artifacts/job-credentials.ts';
import { browserSkip, launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { cliAgainst } from '../helpers/cli-against.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import { buildEnded, jobLog, pipelineHead, pushAndWait, pushBuild } from '../helpers/push-build.ts';

const SECRET = 'artifacts-secret';

describe('caches and artifacts (native pipeline keys, real sandbox)', () => {
  const s = suiteServer({
    history: [{ 'lock.txt': 'v1\n' }],
    pipelines: (repo) => ({
      'deps.yml': `${pipelineHead('deps', repo.dir)}jobs:
  build:
    cache:
      key: deps-\${{ runner.os }}-\${{ hashFiles('lock.txt') }}
      paths: [deps, ~/.tool]
      restore-keys: deps-
    artifacts:
      name: dist
      paths: ['out/**', '!out/*.tmp']
    steps:
      - run: |
          if [ -f deps/made.txt ]; then echo "cache: restored from build $(cat deps/made.txt)"; else echo "cache: cold"; fi
          if [ -f ~/.tool/h.txt ]; then echo "home cache: $(cat ~/.tool/h.txt)"; fi
          mkdir -p deps ~/.tool out/sub
          [ -f deps/made.txt ] || echo "$CI_BUILD_NUMBER" > deps/made.txt
          echo "tool of $CI_BUILD_NUMBER" > ~/.tool/h.txt
          echo "built by $CI_BUILD_NUMBER" > out/sub/app.txt
          echo junk > out/x.tmp
  test:
    needs: build
    steps:
      - run: |
          echo "artifact: $(cat out/sub/app.txt)"
          test ! -e out/x.tmp
  alone:
    download-artifacts: false
    needs: build
    steps:
      - run: |
          test ! -e out/sub/app.txt && echo "alone: no artifact"
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
  });

  const push = (ref = 'refs/heads/main', sha = s.repo.commits[0]!) =>
    pushBuild(s.server, { name: 'deps', sha, secret: SECRET, ref });
  const finished = (id: string) => buildEnded(s.server, id, 90_000);
  const log = (id: string, job: string) => jobLog(s.server, id, job);

  let first: string;

  it('a cold build saves its cache, and a later job of the build unpacks its artifact', async () => {
    first = await push();
    const b = await finished(first);
    const build = await log(first, 'build');
    assert.equal(b.status, 'success', build);
    assert.match(build, /cache: cold/);
    assert.match(build, /cache "deps-Linux-[0-9a-f]{64}": not found, nothing restored/);
    assert.match(build, /cache "deps-Linux-[0-9a-f]{64}": saved/);
    assert.match(build, /artifact "dist": uploaded 1 file/);
    assert.match(await log(first, 'test'), /artifact: built by 1/);
    assert.match(await log(first, 'test'), /artifact "dist": unpacked into the checkout/);
    assert.match(await log(first, 'alone'), /alone: no artifact/);
  });

  it('users list and download the artifact through the API', async () => {
    const list = (await (await s.server.api(`/api/builds/${first}/artifacts`)).json()) as {
      artifacts: Array<{ name: string; job: string; size: number; url: string }>;
    };
    assert.deepEqual(
      list.artifacts.map((a) => [a.name, a.job]),
      [['dist', 'build']],
    );
    const res = await s.server.api(`/api/builds/${first}/artifacts/dist`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-disposition') ?? '', /deps-1-dist\.tar\.gz/);
    const dir = mkdtempSync(join(tmpdir(), 'pushci-test-artifact-'));
    writeFileSync(join(dir, 'a.tgz'), Buffer.from(await res.arrayBuffer()));
    const names = execFileSync('tar', ['-tzf', join(dir, 'a.tgz')], { encoding: 'utf8' })
      .trim()
      .split('\n');
    assert.deepEqual(names, ['out/sub/app.txt']);
    // Without the API token: refused, and a job credential is no API token.
    assert.equal((await fetch(`${s.server.base}/api/builds/${first}/artifacts/dist`)).status, 401);
    assert.equal((await s.server.api(`/api/builds/${first}/artifacts/nothing`)).status, 404);
  });

  it('the CLI lists the artifacts, downloads one and unpacks it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pushci-test-cli-artifact-'));
    const cli = cliAgainst(s.server, dir, 'artifacts');
    assert.match(await cli(first), /^dist\s+build\s+\d+(\.\d)? (B|kB)\s+expires \d{4}-\d\d-\d\d$/m);
    await cli(first, 'dist');
    assert.deepEqual(
      execFileSync('tar', ['-tzf', join(dir, 'deps-1-dist.tar.gz')], { encoding: 'utf8' })
        .trim()
        .split('\n'),
      ['out/sub/app.txt'],
    );
    await cli(first, 'dist', '--extract', join(dir, 'x'));
    assert.equal(readFileSync(join(dir, 'x/out/sub/app.txt'), 'utf8'), 'built by 1\n');
  });

  it('the dashboard’s build page links the artifact for download', { skip: browserSkip }, async () => {
    const browser = await launchBrowser();
    try {
      const page = await loggedInPage(browser, s.server.base, s.server.token);
      await page.goto(`${s.server.base}/#/builds/${first}`);
      const link = page.getByTestId('artifact-link');
      await link.waitFor();
      assert.equal(await link.textContent(), 'dist.tar.gz');
      assert.match(
        (await page.getByTestId('artifacts').textContent()) ?? '',
        /dist\.tar\.gz \d+(\.\d)? kB · from build · kept until \d{4}-\d\d-\d\d/,
      );
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      assert.equal(download.suggestedFilename(), 'deps-1-dist.tar.gz');
      const path = await download.path();
      assert.deepEqual(execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }).trim().split('\n'), [
        'out/sub/app.txt',
      ]);
    } finally {
      await browser.close();
    }
  });

  it('the next build restores the cache (workspace and home), and does not save it again', async () => {
    const id = await push();
    const b = await finished(id);
    const build = await log(id, 'build');
    assert.equal(b.status, 'success', build);
    assert.match(build, /cache: restored from build 1/);
    assert.match(build, /home cache: tool of 1/);
    assert.match(build, /restored exactly, not saved again/);
  });

  it('a new lock file misses the key but restores through restore-keys, then saves its own', async () => {
    const sha = s.repo.commit({ 'lock.txt': 'v2\n' });
    const id = await push('refs/heads/main', sha);
    const build = await log(id, 'build').then(async (t) => ((await finished(id)) ? log(id, 'build') : t));
    assert.match(build, /cache: restored from build 1/);
    assert.match(build, /restored from "deps-Linux-[0-9a-f]{64}"/);
    assert.match(build, /cache "deps-Linux-[0-9a-f]{64}": saved/);
  });

  it('a feature branch reads the default branch’s caches; main never reads the feature branch’s', async () => {
    const sha = s.repo.commit({ 'lock.txt': 'feature\n' });
    s.repo.git('branch', 'feature', sha);
    const id = await push('refs/heads/feature', sha);
    await finished(id);
    const feature = await log(id, 'build');
    assert.match(feature, /cache: restored from build 1/, 'restore-keys reach main’s caches');
    assert.match(feature, /saved/);
    // main at the same lock file: the feature branch's exact key is not visible to it.
    s.repo.git('checkout', '-q', 'main');
    s.repo.git('reset', '-q', '--hard', sha);
    const onMain = await push('refs/heads/main', sha);
    await finished(onMain);
    const mainLog = await log(onMain, 'build');
    assert.doesNotMatch(mainLog, /restored exactly/);
    assert.match(mainLog, /restored from "deps-/);
  });

  it('only a live job credential opens the job API: not the API token, not a finished job’s', async () => {
    const client = new Redis(s.redis.url);
    const creds = new JobCredentials(client, s.redis.prefix);
    const stale = await creds
      .mint(
        {
          buildId: first,
          job: 'build',
          attempt: 1,
          repository: 'github:octo-org/deps',
          ref: 'refs/heads/main',
          defaultRef: 'refs/heads/main',
        },
        60_000,
      )
      .finally(() => client.disconnect());
    const asJob = (token: string, path: string) =>
      fetch(`${s.server.base}/job${path}`, { headers: { authorization: `Bearer ${token}` } });
    const r1 = await asJob(stale, '/artifacts');
    assert.equal(r1.status, 401);
    assert.equal(((await r1.json()) as { error: string }).error, 'unauthorized');
    assert.equal((await asJob(s.server.token, '/artifacts')).status, 401);
    assert.equal((await asJob('pcj_guess', '/caches?keys=a&version=b')).status, 401);
    // …and a job credential opens nothing of /api.
    assert.equal(
      (await fetch(`${s.server.base}/api/builds`, { headers: { authorization: `Bearer ${stale}` } })).status,
      401,
    );
  });
});

describe('a worker on another machine (its own data dir) sends caches and artifacts to the server over HTTP', () => {
  const s = suiteServer({
    history: [{ 'a.txt': 'a\n' }],
    pipelines: (repo) => ({
      'remote.yml': `${pipelineHead('remote', repo.dir)}jobs:
  make:
    cache: { key: remote-1, paths: [kept] }
    artifacts: { name: out, paths: [out.txt] }
    steps:
      - run: |
          [ -f kept/x ] && echo "kept: $(cat kept/x)" || { mkdir -p kept; echo "$CI_BUILD_NUMBER" > kept/x; }
          echo made > out.txt
`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: SECRET },
    remoteWorker: true,
  });

  it('stores them in the server’s data dir, none in the worker’s, and the next build restores', async () => {
    const run = async () => {
      const sha = s.repo.commits[0]!;
      const b = await pushAndWait(s.server, { name: 'remote', sha, secret: SECRET, timeoutMs: 90_000 });
      const id = b.id;
      const log = await jobLog(s.server, id, 'make');
      assert.equal(b.status, 'success', log);
      return { id, log };
    };
    const first = await run();
    assert.ok(existsSync(join(s.server.config.dataDir, 'artifacts', first.id, 'out.tar.gz')));
    assert.ok(!existsSync(join(s.worker.config.dataDir, 'artifacts')));
    assert.ok(!existsSync(join(s.worker.config.dataDir, 'caches')));
    const second = await run();
    assert.match(second.log, /kept: 1/);
  });
});
