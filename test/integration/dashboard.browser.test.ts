import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser } from '../helpers/browser.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { suiteServer } from '../helpers/suite-server.ts';

describe('dashboard in a real headless Chromium', { skip: browserSkip }, () => {
  const s = suiteServer({
    history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
    pipelines: (repo) => {
      const steps = `jobs:
  build:
    steps:
      - name: compile
        run: |
          for i in 1 2 3 4 5 6 7 8; do printf '\\033[32mcompiled\\033[0m module %s\\n' "$i"; sleep 0.4; done
  test:
    needs: build
    steps:
      - run: echo "all tests passed"
  deploy:
    needs: [build, test]
    steps:
      - run: echo deployed
`;
      return {
        'web.yml': `name: web\nrepository: octo-org/web\nclone-url: ${repo.dir}\non: push\n${steps}`,
        'slow.yml': `name: slow\nrepository: octo-org/slow\nclone-url: ${repo.dir}\non: push\njobs:\n  wait:\n    steps:\n      - run: sleep 60\n`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: 'dash-token', PUSHCI_KILL_GRACE_MS: '300' },
  });
  let browser: Browser;
  let page: Page;
  before(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
  });
  const push = async (name: string, i = 1) =>
    (
      await sendGithub(
        s.server.base,
        githubPush({
          before: s.repo.commits[0]!,
          after: s.repo.commits[i]!,
          repo: `octo-org/${name}`,
          message: `Change ${name} ${i}`,
        }),
        's',
      )
    ).json.builds[0].id as string;

  it('asks for the token, then lists builds that update live', async () => {
    await page.goto(s.server.base);
    await page.getByTestId('token').fill('dash-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('empty').waitFor();
    const id = await push('web');
    // No reload: the row appears and turns green through Server-Sent Events.
    const row = page.locator(`tr[data-build="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await row.locator('[data-status="success"]').waitFor({ timeout: 30_000 });
    assert.match(await row.innerText(), /web #1/);
  });

  it('shows the job graph and follows a running log, with ANSI colours', async () => {
    const id = await push('web', 0);
    await page.goto(`${s.server.base}/#/builds/${id}`);
    await page.getByTestId('graph').waitFor();
    const jobs = await page
      .locator('[data-job]')
      .evaluateAll((els) =>
        els.map((e) => (e as unknown as { dataset: Record<string, string> }).dataset.job),
      );
    assert.deepEqual(jobs, ['build', 'test', 'deploy']);
    const columns = await page.locator('.graph .column').count();
    assert.equal(columns, 3, 'needs put each job in its own column');
    const lines = page.getByTestId('log').locator('[data-line]');
    await page.getByTestId('log').getByText('compiled').first().waitFor({ timeout: 20_000 });
    const early = await page
      .getByTestId('log')
      .getByText(/module \d/)
      .count();
    // The step's section folds once it passes, so its last line may be in the page but hidden.
    await page.getByTestId('log').getByText('module 8').waitFor({ state: 'attached', timeout: 20_000 });
    const late = await page
      .getByTestId('log')
      .getByText(/module \d/)
      .count();
    assert.ok(late > early, `the followed log grew from ${early} to ${late} lines while the step ran`);
    const color = await page
      .getByTestId('log')
      .getByText('compiled')
      .first()
      .evaluate(
        (e) =>
          (globalThis as unknown as { getComputedStyle(x: unknown): { color: string } }).getComputedStyle(e)
            .color,
      );
    assert.equal(color, 'rgb(63, 185, 80)', 'ANSI green is shown in green');
    assert.ok((await lines.count()) >= 8);
    await page.locator('[data-job="build"].success').waitFor({ timeout: 20_000 });
    await page.locator('[data-job="deploy"].success').waitFor({ timeout: 20_000 });
  });

  it('cancels a running build and re-runs a finished one from the build page', async () => {
    const id = await push('slow');
    await page.goto(`${s.server.base}/#/builds/${id}`);
    await page.locator('[data-job="wait"].running').waitFor({ timeout: 15_000 });
    await page.getByTestId('cancel').click();
    await page.locator('h2 [data-status="canceled"]').waitFor({ timeout: 15_000 });
    await page.getByTestId('rerun').click();
    await page.waitForFunction(
      (old) => !(globalThis as unknown as { location: { hash: string } }).location.hash.includes(old),
      id,
    );
    assert.match(await page.url(), /#\/builds\/[0-9a-z]{19}$/);
    assert.notEqual(page.url().split('/').pop(), id);
    // As a person would: the re-run's own page is shown, its job running, before Cancel is clicked
    // (under load the old page can still be on screen for a moment after the address changed).
    await page.getByTestId('rerun-of').waitFor({ timeout: 15_000 });
    await page.locator('[data-job="wait"].running').waitFor({ timeout: 15_000 });
    await page.getByTestId('cancel').click();
    await page.locator('h2 [data-status="canceled"]').waitFor({ timeout: 15_000 });
  });

  it('shows pipelines and the problems of a broken edit', async () => {
    writeFileSync(
      join(s.server.config.pipelinesDir, 'web.yml'),
      'repository: octo-org/web\non: push\njobs:\n  x:\n    stepz: []\n',
    );
    await page.goto(`${s.server.base}/#/pipelines`);
    await page.getByTestId('pipelines').waitFor();
    await page.waitForTimeout(800);
    await page.reload();
    await page.getByTestId('problems').waitFor({ timeout: 10_000 });
    const problems = await page.getByTestId('problems').innerText();
    assert.match(problems, /web\.yml:5:5: unknown key "stepz"/);
    assert.match(problems, /web\.yml — broken: its last good version \(web, loaded .*\) stays in force/);
    const table = await page.getByTestId('pipelines').innerText();
    assert.match(table, /web[\s\S]*slow|slow[\s\S]*web/);
    assert.match(table, /web\s[^\n]*last good version \(file broken\)/);
  });
});
