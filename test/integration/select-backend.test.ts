import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { captureLog } from '../helpers/capture-log.ts';
import { selectBackend } from '../../src/runner/select-backend.ts';
import { browserSkip, launchBrowser } from '../helpers/browser.ts';
import { makeRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { buildEnded } from '../helpers/push-build.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

/** A PATH with every program of this machine's PATH except bubblewrap: a machine without the sandbox. */
function pathWithoutBwrap(): string {
  const bin = mkdtempSync(join(tmpdir(), 'pushci-nobwrap-'));
  const dirs = [...(process.env.PATH ?? '').split(':'), dirname(process.execPath)];
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) {
      if (n === 'bwrap') continue;
      try {
        symlinkSync(join(d, n), join(bin, n));
      } catch {
        // An earlier PATH entry had it already.
      }
    }
  }
  return bin;
}

const capture = () => captureLog('debug');

describe('PUSHCI_RUNNER', () => {
  const fullPath = process.env.PATH!;
  const noBwrap = pathWithoutBwrap();
  after(() => {
    process.env.PATH = fullPath;
  });

  it('auto picks the sandbox where the machine supports it', async () => {
    const { log, lines } = capture();
    const b = await selectBackend(loadConfig({ PATH: fullPath }), log);
    assert.equal(b.name, 'sandbox');
    assert.equal(b.isolated, true);
    assert.ok(!lines.some((l) => l.level === 40), 'no warning');
  });

  it('sandbox refuses to start without bubblewrap, in one line that says what to install', async () => {
    process.env.PATH = noBwrap;
    try {
      await assert.rejects(
        selectBackend(loadConfig({ PUSHCI_RUNNER: 'sandbox' }), capture().log),
        (err: Error) => {
          assert.match(
            err.message,
            /^PUSHCI_RUNNER=sandbox, but bubblewrap \(bwrap\) is not installed \(.*apt-get install bubblewrap\)$/,
          );
          assert.doesNotMatch(err.message, /\n/);
          return true;
        },
      );
    } finally {
      process.env.PATH = fullPath;
    }
  });

  it('auto falls back to the host runner with a loud warning', async () => {
    process.env.PATH = noBwrap;
    const { log, lines } = capture();
    try {
      const b = await selectBackend(loadConfig({}), log);
      assert.equal(b.name, 'host');
      assert.equal(b.isolated, false);
      const warn = lines.find((l) => l.level === 40);
      assert.match(String(warn?.msg), /^NO SANDBOX: bubblewrap \(bwrap\) is not installed/);
    } finally {
      process.env.PATH = fullPath;
    }
  });

  it('refuses a value it does not know', () => {
    assert.throws(
      () => loadConfig({ PUSHCI_RUNNER: 'docker' }),
      /PUSHCI_RUNNER must be auto, sandbox or host/,
    );
  });
});

describe('a server without the sandbox', () => {
  let redis: TestRedis;
  let server: TestServer;
  const repo = makeRepo([{ 'a.txt': 'a\n' }]);
  const fullPath = process.env.PATH!;
  before(async () => {
    redis = await startRedis();
    process.env.PATH = pathWithoutBwrap();
    server = await startServer(
      redis,
      {
        'p.yml': `name: p\nrepository: octo-org/p\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: echo hi\n`,
      },
      { GITHUB_WEBHOOK_SECRET: 's', PATH: process.env.PATH, PUSHCI_API_TOKEN: 'select-token' },
    );
  });
  after(async () => {
    process.env.PATH = fullPath;
    await server?.close();
    await redis?.stop();
  });

  it('marks every build it ran unsandboxed, and each job with its runner', async () => {
    assert.ok(server.logs.some((l) => /^NO SANDBOX/.test(String(l.msg))));
    const res = await sendGithub(
      server.base,
      githubPush({ before: '0'.repeat(40), after: repo.commits[0]!, repo: 'octo-org/p' }),
      's',
    );
    const id = res.json.builds[0].id as string;
    const b = await buildEnded(server, id, 30_000);
    assert.equal(b.status, 'success', b.reason ?? '');
    assert.equal(b.unsandboxed, true);
    assert.equal(b.jobs[0]!.runner, 'host');
    const log = await (await server.api(`/api/builds/${id}/jobs/j/log`)).text();
    assert.match(log, /runner: host \(no sandbox/);
    builtId = id;
  });

  let builtId = '';
  it(
    'shows the unsandboxed badge on the dashboard, in the list and on the build',
    { skip: browserSkip },
    async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(server.base);
        await page.getByTestId('token').fill('select-token');
        await page.getByRole('button', { name: 'Log in' }).click();
        const row = page.locator(`tr[data-build="${builtId}"]`);
        await row.waitFor({ timeout: 15_000 });
        assert.equal(await row.getByTestId('unsandboxed').innerText(), 'UNSANDBOXED');
        await row.click();
        await page.locator('h2').getByTestId('unsandboxed').waitFor({ timeout: 15_000 });
      } finally {
        await browser.close();
      }
    },
  );
});
