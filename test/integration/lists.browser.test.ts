import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { githubPush, post, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const pipe = (name: string, repo: string, on: string, run: string) =>
  `name: ${name}\nrepository: octo-org/${name}\nclone-url: ${repo}\non:\n${on}\njobs:\n  one:\n    steps:\n      - run: ${run}\n`;

describe(
  'the lists, the "why" view and the manual trigger in a real headless Chromium',
  { skip: browserSkip },
  () => {
    const s = suiteServer({
      history: [{ 'a.txt': '1' }, { 'a.txt': '2' }],
      pipelines: (repo) => ({
        'web.yml': pipe('web', repo.dir, '  push:\n    branches: [main, feature]', 'echo web'),
        'api.yml': pipe('api', repo.dir, '  push:\n    branches: [main]', 'exit 1'),
        'slow.yml': pipe('slow', repo.dir, '  push:\n    branches: [main]', 'sleep 6'),
      }),
      env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: 'lists-token' },
    });
    let browser: Browser;
    let page: Page;
    before(async () => {
      browser = await launchBrowser();
      page = await loggedInPage(browser, s.server.base, 'lists-token');
    });
    after(async () => {
      await browser?.close();
    });
    const push = async (name: string, branch = 'main') =>
      (
        await sendGithub(
          s.server.base,
          githubPush({
            ref: `refs/heads/${branch}`,
            before: s.repo.commits[0]!,
            after: s.repo.commits[1]!,
            repo: `octo-org/${name}`,
            message: `Change ${name} on ${branch}`,
          }),
          's',
        )
      ).json;
    const rows = () =>
      page
        .locator('[data-testid="builds"] tr[data-build]')
        .evaluateAll((els) => els.map((e) => e.textContent ?? ''));

    it('filters builds by pipeline, branch, event and status, and pages through them', async () => {
      await push('web');
      await push('web', 'feature');
      await push('api');
      await push('web');
      await waitFor(
        async () => {
          const r = (await (await s.server.api('/api/builds?limit=10')).json()) as {
            builds: Array<{ status: string }>;
          };
          return r.builds.length === 4 && r.builds.every((b) => !['queued', 'running'].includes(b.status));
        },
        60_000,
        'four finished builds',
      );
      await page.goto(`${s.server.base}/#/`);
      await page.getByTestId('builds').waitFor();
      assert.equal((await rows()).length, 4);
      await page.getByTestId('filter-pipeline').selectOption('web');
      await page.waitForFunction(() => (globalThis as any).location.hash === '#/?pipeline=web');
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 3,
      );
      assert.ok((await rows()).every((r) => /^.*web #\d/.test(r)));
      await page.getByTestId('filter-branch').fill('feature');
      await page.getByTestId('filter-branch').press('Enter');
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 1,
      );
      assert.match((await rows())[0]!, /web #2.*feature/);
      // A link with filters is a page of its own: the Pipelines page links to one.
      await page.goto(`${s.server.base}/#/pipelines`);
      await page.locator('[data-pipeline="api"] a', { hasText: 'builds' }).click();
      await page.waitForFunction(() => (globalThis as any).location.hash === '#/?pipeline=api');
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 1,
      );
      assert.match((await rows())[0]!, /failure\s*api #1/);
      // A filter by the pipeline's file shows that file, not "any".
      await page.goto(`${s.server.base}/#/?pipeline=web.yml`);
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 3,
      );
      const picked = await page
        .getByTestId('filter-pipeline')
        .evaluate((el: any) => el.selectedOptions[0]?.textContent ?? '');
      assert.match(picked, /web\.yml/);
      await page.goto(`${s.server.base}/#/?pipeline=api`);
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 1,
      );
      await page.getByTestId('filter-status').selectOption('success');
      await page.getByTestId('empty').waitFor();
      assert.match(await page.getByTestId('empty').innerText(), /No build matches these filters/);
      await page.goto(`${s.server.base}/#/?event=push&status=success`);
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 3,
      );
      await page.goto(`${s.server.base}/#/?event=manual`);
      await page.getByTestId('empty').waitFor();
      // Paging, two a page: 4 builds are two pages and the cursor comes from the API.
      await page.goto(`${s.server.base}/#/?limit=2`);
      await page.waitForFunction(
        () => (globalThis as any).document.querySelectorAll('tr[data-build]').length === 2,
      );
      const first = await rows();
      await page.getByTestId('older').click();
      await page.waitForFunction(() => /cursor=/.test((globalThis as any).location.hash));
      await page.waitForFunction(
        (firstRows) =>
          [...(globalThis as any).document.querySelectorAll('tr[data-build]')]
            .map((e: any) => e.textContent)
            .join() !== firstRows.join(),
        first,
      );
      const second = await rows();
      assert.equal(second.length, 2);
      assert.deepEqual([...first, ...second].map((r) => /(web|api) #\d/.exec(r)![0]).sort(), [
        'api #1',
        'web #1',
        'web #2',
        'web #3',
      ]);
      await page.getByTestId('newest').click();
      await page.waitForFunction(() => !/cursor=/.test((globalThis as any).location.hash));
    });

    it('shows a pipeline: success rate, median duration, badge snippet; runs it by hand', async () => {
      await page.goto(`${s.server.base}/#/pipelines/web`);
      await page.getByTestId('stats').waitFor();
      assert.equal(await page.getByTestId('success-rate').innerText(), '100%');
      assert.match(await page.getByTestId('median-duration').innerText(), /\d+(\.\d)? ?m?s/);
      assert.equal(
        await page.getByTestId('badge-snippet').inputValue(),
        `[![web](${s.server.base}/badge/web.svg)](${s.server.base}/#/pipelines/web)`,
      );
      await page.getByTestId('trigger-ref').fill('main');
      await page.getByTestId('trigger-run').click();
      await page.waitForFunction(() => /^#\/builds\/[0-9a-z]+$/.test((globalThis as any).location.hash));
      await page
        .locator('h2', { hasText: 'web #4' })
        .locator('[data-status="success"]')
        .waitFor({ timeout: 30_000 });
      assert.match(await page.locator('.meta').nth(1).innerText(), /^manual by dashboard/);
      // A ref that does not exist: said plainly, nothing started.
      await page.goto(`${s.server.base}/#/pipelines/web`);
      await page.getByTestId('trigger-ref').fill('no-such-branch');
      await page.getByTestId('trigger-run').click();
      await page.getByTestId('flash').waitFor();
      assert.match(await page.getByTestId('flash').innerText(), /refs\/heads\/no-such-branch does not exist/);
    });

    it('opens a pipeline by its file as pushci trigger takes it, and says which exist when none fits', async () => {
      const { file } = (await (await s.server.api('/api/pipelines/web')).json()) as { file: string };
      for (const wanted of [file, 'web.yml']) {
        await page.goto(
          `${s.server.base}/#/pipelines/${wanted.split('/').map(encodeURIComponent).join('/')}`,
        );
        await page.getByTestId('stats').waitFor();
        assert.equal(await page.getByTestId('pipeline-name').innerText(), 'web', wanted);
        assert.equal(await page.getByTestId('success-rate').innerText(), '100%', 'its builds, by its id');
        assert.equal(await page.evaluate(() => (globalThis as any).location.hash), '#/pipelines/web');
      }
      await page.goto(`${s.server.base}/#/pipelines/pipelines/wbe.yml`);
      await page.getByTestId('no-pipeline').waitFor();
      assert.match(
        await page.getByTestId('no-pipeline').innerText(),
        /no pipeline "pipelines\/wbe\.yml"; the pipelines are: .*web \(/,
      );
    });

    it('answers "why didn’t my push build?" for every received webhook', async () => {
      await push('web', 'docs-only');
      await post(`${s.server.base}/webhooks/github`, '{"ref":"refs/heads/main"}', {
        'x-github-event': 'push',
        'x-github-delivery': 'forged-1',
        'x-hub-signature-256': `sha256=${'1'.repeat(64)}`,
      });
      await page.goto(`${s.server.base}/#/webhooks`);
      await page.getByTestId('webhooks').waitFor();
      const rowsText = await page
        .locator('tr[data-webhook]')
        .evaluateAll((els) => els.map((e) => e.textContent));
      assert.match(rowsText[0]!, /github\s*push\s*refused/);
      assert.match(rowsText[1]!, /matched no pipeline\s*octo-org\/web refs\/heads\/docs-only/);
      await page.locator('tr[data-webhook]').nth(1).click();
      await page.getByTestId('why').waitFor();
      const web = page.locator('[data-testid="why-pipelines"] tr[data-pipeline="web"]');
      assert.equal(await web.getAttribute('data-matched'), 'false');
      assert.match(await web.innerText(), /branch docs-only is not in branches \[main, feature\]/);
      assert.match(
        await page.locator('[data-testid="why-pipelines"] tr[data-pipeline="api"]').innerText(),
        /repository octo-org\/web does not match octo-org\/api/,
      );
      // The refused one: what was refused, and that no payload was kept.
      await page.goto(`${s.server.base}/#/webhooks`);
      await page.locator('tr[data-webhook]').first().click();
      await page.getByTestId('why').waitFor();
      const why = await page.getByTestId('why').innerText();
      assert.match(why, /forged-1/);
      assert.match(why, /401/);
      assert.match(why, /nothing of the payload was kept/);
    });

    it('shows the workers alive, what each runs and its last heartbeat', async () => {
      const id = (await push('slow')).builds[0].id as string;
      await waitFor(
        async () =>
          ((await (await s.server.api(`/api/builds/${id}`)).json()) as any).jobs[0].status === 'running',
        20_000,
        'the slow job to run',
      );
      await page.goto(`${s.server.base}/#/workers`);
      const row = page.locator('[data-testid="workers"] tr[data-worker]');
      await row.first().waitFor();
      assert.equal(await row.count(), 1);
      // The heartbeat comes every 5 s: reload until it carries the running job.
      await waitFor(
        async () => {
          await page.reload();
          await row.first().waitFor();
          return (await row.first().locator(`a[href="#/builds/${id}/one"]`).count()) === 1;
        },
        12_000,
        'the running job on the Workers page',
      );
      // Without PUSHCI_RUNNER_LABELS a worker offers self-hosted, its OS and its architecture.
      assert.match(
        await row.first().innerText(),
        /\(pid \d+\)\s+self-hosted, [a-z0-9]+, [a-z0-9]+\s+1 of \d+/,
      );
      assert.match((await row.first().locator('time').first().getAttribute('title'))!, /^\d{4}-\d\d-\d\dT/);
    });

    it('fits a narrow screen and has a favicon', async () => {
      const phone = await loggedInPage(browser, s.server.base, 'lists-token', { width: 390, height: 800 });
      await phone.goto(`${s.server.base}/#/`);
      await phone.getByTestId('builds').waitFor();
      const overflow = await phone.evaluate(
        () => (globalThis as any).document.documentElement.scrollWidth - (globalThis as any).innerWidth,
      );
      assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
      const icon = await phone.locator('link[rel="icon"]').getAttribute('href');
      const res = await phone.request.get(`${s.server.base}${icon}`);
      assert.equal(res.status(), 200);
      assert.equal(res.headers()['content-type'], 'image/svg+xml');
      await phone.close();
    });
  },
);
