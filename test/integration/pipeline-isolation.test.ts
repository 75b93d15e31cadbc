import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { spawnPushci, type PushciProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/receiver.ts';
import { freePort, startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const TOKEN = 'isolation-token';
const ROOT = join(import.meta.dirname, '../..');

/** A pipeline named `name` for repository octo-org/<name>, building the given branches. */
const pipeline = (repo: TestRepo, name: string, branches: string) =>
  `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo.dir}\non:\n  push:\n    branches: [${branches}]\njobs:\n  j:\n    steps:\n      - run: 'true'\n`;
const BROKEN = 'name: b\nrepository: octo-org/b\non: push\njobs:\n  j:\n    stepz: []\n';

interface PipelinesView {
  pipelines: Array<{ name: string; state: string; problems: Array<{ text: string }> }>;
  files: Array<{ name: string; state: string; pipeline: string | null; problems: Array<{ text: string }> }>;
  problems: Array<{ text: string }>;
}

describe('broken pipeline files are isolated', () => {
  let redis: TestRedis;
  let repo: TestRepo;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo();
  });
  after(async () => {
    await redis?.stop();
  });
  const push = (base: string, name: string, branch: string) =>
    sendGithub(
      base,
      githubPush({
        ref: `refs/heads/${branch}`,
        before: repo.commits[0]!,
        after: repo.commits[0]!,
        repo: `octo-org/${name}`,
      }),
      's',
    );
  const view = async (base: string) =>
    (await (
      await fetch(`${base}/api/pipelines`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as PipelinesView;

  describe('reload', () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(
        redis,
        { 'a.yml': pipeline(repo, 'a', 'main'), 'b.yml': pipeline(repo, 'b', 'main') },
        { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: TOKEN },
        { worker: false },
      );
    });
    after(async () => {
      await server?.close();
    });

    it('applies a good edit of one file while another is broken, which keeps its last good version', async () => {
      const dir = server.config.pipelinesDir;
      assert.equal((await push(server.base, 'a', 'develop')).status, 200, 'a does not build develop yet');
      // One save touches both: a good edit of a.yml, a broken b.yml.
      writeFileSync(join(dir, 'a.yml'), pipeline(repo, 'a', 'develop'));
      writeFileSync(join(dir, 'b.yml'), BROKEN);
      await waitFor(async () => (await push(server.base, 'a', 'develop')).status === 202, 10_000, 'a’s edit');
      assert.equal((await push(server.base, 'a', 'main')).status, 200, 'the edit replaced a’s old version');
      const b = await push(server.base, 'b', 'main');
      assert.equal(b.status, 202, 'b builds with its last good version');
      // …and its answer says so; a good file's answer has no warnings.
      assert.deepEqual(b.json.warnings.length, 1, b.text);
      assert.match(
        b.json.warnings[0],
        /b\.yml has problems now \(pushci validate lists them\); pipeline b builds with its last good version, in force since \d{4}-/,
      );
      const a = await push(server.base, 'a', 'develop');
      assert.equal(a.status, 202);
      assert.equal(a.json.warnings, undefined, a.text);

      const v = await view(server.base);
      assert.deepEqual(
        v.files.map((f) => [f.name, f.state, f.pipeline]),
        [
          ['a.yml', 'ok', 'a'],
          ['b.yml', 'last-good', 'b'],
        ],
      );
      assert.match(v.files[1]!.problems.map((d) => d.text).join('\n'), /b\.yml:6:5: unknown key "stepz"/);
      assert.deepEqual(
        v.pipelines.map((p) => [p.name, p.state, p.problems.length]),
        [
          ['a', 'ok', 0],
          ['b', 'last-good', v.files[1]!.problems.length],
        ],
      );
      assert.ok(v.problems.length > 0);
      assert.deepEqual(v.problems, v.files[1]!.problems);
      const lines = server.logs.map((l) => String(l.msg));
      assert.ok(
        lines.some((m) => /^pipeline problem: .*b\.yml:6:5: unknown key "stepz"/.test(m)),
        lines.join('\n'),
      );
      assert.ok(
        lines.some((m) =>
          /b\.yml is broken: its last good version \(pipeline "b", loaded .*\) stays in force/.test(m),
        ),
      );

      // A later good edit of a.yml still applies; fixing b.yml brings its new version.
      writeFileSync(join(dir, 'a.yml'), pipeline(repo, 'a', 'feature'));
      await waitFor(
        async () => (await push(server.base, 'a', 'feature')).status === 202,
        10_000,
        'a’s second edit',
      );
      writeFileSync(join(dir, 'b.yml'), pipeline(repo, 'b', 'release'));
      await waitFor(async () => (await push(server.base, 'b', 'release')).status === 202, 10_000, 'b’s fix');
      assert.equal((await view(server.base)).problems.length, 0);
    });
  });

  describe('restart (real processes)', () => {
    const procs: PushciProcess[] = [];
    after(() => {
      for (const p of procs) p.proc.kill('SIGKILL');
    });

    it('starts with a broken file: everything else, its last good version from Redis, and says so', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pushci-isolation-'));
      writeFileSync(join(dir, 'a.yml'), pipeline(repo, 'a', 'main'));
      writeFileSync(join(dir, 'b.yml'), pipeline(repo, 'b', 'main'));
      const port = await freePort();
      const env = {
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: redis.url,
        PUSHCI_QUEUE_PREFIX: redis.prefix,
        PUSHCI_PIPELINES: dir,
        PUSHCI_DATA_DIR: mkdtempSync(join(tmpdir(), 'pushci-isolation-data-')),
        GITHUB_WEBHOOK_SECRET: 's',
        PUSHCI_API_TOKEN: TOKEN,
        PUSHCI_PUBLIC_URL: `http://127.0.0.1:${port}`,
      };
      const base = `http://127.0.0.1:${port}`;
      const serve = async () => {
        const p = spawnPushci(['serve', '--no-worker'], env);
        procs.push(p);
        await waitFor(
          () => p.output.join('').includes('pushci is listening') || p.proc.exitCode !== null,
          60_000,
          'serve to listen',
        );
        assert.equal(p.proc.exitCode, null, p.output.join(''));
        return p;
      };
      const first = await serve();
      first.proc.kill('SIGTERM');
      assert.equal(await first.exited, 0);

      // While it was down: b.yml broke, and c.yml arrived broken (it never had a good version).
      writeFileSync(join(dir, 'b.yml'), BROKEN);
      writeFileSync(join(dir, 'c.yml'), 'name: c\nrepository: octo-org/c\non: push\njobs: {}\n');
      const second = await serve();
      const out = second.output.join('');
      assert.match(out, /pipeline problem: [^"]*b\.yml:6:5: unknown key \\"stepz\\"/);
      assert.match(
        out,
        /b\.yml is broken: its last good version \(pipeline \\"b\\", loaded [^)]+\) stays in force/,
      );
      assert.match(out, /c\.yml is broken and has no good version to fall back to: it defines no pipeline/);
      const v = await view(base);
      assert.deepEqual(
        v.files.map((f) => [f.name, f.state, f.pipeline]),
        [
          ['a.yml', 'ok', 'a'],
          ['b.yml', 'last-good', 'b'],
          ['c.yml', 'none', null],
        ],
      );
      assert.equal((await push(base, 'a', 'main')).status, 202);
      assert.equal(
        (await push(base, 'b', 'main')).status,
        202,
        'b builds with the version from before the restart',
      );
      assert.equal((await push(base, 'c', 'main')).status, 200, 'c defines nothing');

      // The pre-commit check still fails on it, and doctor names the file and what the server keeps.
      const validate = await promisify(execFile)(process.execPath, [
        join(ROOT, 'src/cli.ts'),
        'validate',
        dir,
      ]).then(
        () => ({ code: 0, stdout: '' }),
        (e: { code: number; stdout: string }) => e,
      );
      assert.equal(validate.code, 1);
      assert.match(validate.stdout, /b\.yml:6:5: unknown key "stepz"/);
      const doctor = spawnPushci(['doctor'], env);
      assert.equal(await doctor.exited, 1);
      const said = doctor.output.join('');
      assert.match(
        said,
        /✘ broken file\s+\S*b\.yml: the server keeps its last good version \(pipeline "b", loaded /,
      );
      assert.match(said, /✘ broken file\s+\S*c\.yml: it never loaded/);
      assert.match(said, /\s+\S*b\.yml:6:5: unknown key "stepz"/);
    });
  });
});
