import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser } from '../helpers/browser.ts';
import { Webhook } from 'standardwebhooks';
import { apiCall } from '../helpers/api.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';

const TOKEN = 'endpoints-dash-token';

describe('the Endpoints page in a real headless Chromium', { skip: browserSkip }, () => {
  const s = suiteServer({
    receiver: true,
    pipelines: (repo) => ({
      'web.yml': `repository: octo-org/web\nclone-url: ${repo.dir}\non: push\njobs:\n  j:\n    steps:\n      - run: 'true'\n`,
    }),
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: TOKEN },
  });
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => void d.accept(d.defaultValue() || undefined));
  });
  after(async () => {
    await browser?.close();
  });

  let id = '';
  let secret = '';

  it('registers an endpoint and shows its secret once, with a copy button', async () => {
    await page.goto(`${s.server.base}/#/endpoints`);
    await page.getByTestId('token').fill(TOKEN);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('new-endpoint').click();
    const form = page.getByTestId('endpoint-form');
    await form.locator('input[name="url"]').fill(s.receiver.url);
    await form.locator('input[name="description"]').fill('chat bot');
    await form.locator('input[value="build.queued"]').uncheck();
    await page.getByTestId('save').click();
    await page.getByTestId('secret-panel').waitFor();
    secret = (await page.getByTestId('secret').innerText()).trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    id = /#\/endpoints\/(ep_[0-9a-z]+)$/.exec(page.url())?.[1] ?? '';
    assert.ok(id, page.url());
    await page.getByTestId('copy').click();
    await page
      .getByTestId('secret-panel')
      .getByText(/copied|selected/)
      .waitFor();
    assert.equal(await page.getByTestId('endpoint-url').innerText(), s.receiver.url);

    // Shown once: a reload, or the API, never shows it again.
    await page.reload();
    await page.getByTestId('endpoint-url').waitFor();
    assert.equal(await page.getByTestId('secret-panel').count(), 0);
    assert.ok(!(await page.content()).includes(secret));
    const read = await apiCall(s.server.base, TOKEN, 'GET', `/api/endpoints/${id}`);
    assert.deepEqual(read.json.events, ['build.started', 'job.completed', 'build.completed']);
    assert.equal(read.json.description, 'chat bot');
  });

  it('shows a delivery arrive in the endpoint’s log, which verifies with the secret from the page', async () => {
    await page.goto(`${s.server.base}/#/endpoints/${id}`);
    await page.getByTestId('no-deliveries').waitFor();
    const res = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
      's',
    );
    const build = res.json.builds[0].id as string;
    // No reload: the log refreshes by itself.
    const row = page.locator(
      `tr[data-delivery="msg_${build}_build.completed_${id}"][data-state="delivered"]`,
    );
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.getByTestId('delivery-when').innerText(), /just now|s ago/, 'when it was sent');
    // The build by its number, as everywhere else (`web #1`), the id in the link.
    const number = (await apiCall(s.server.base, TOKEN, 'GET', `/api/builds/${build}`)).json.number;
    const link = row.locator(`a[href="#/builds/${build}"]`);
    assert.equal(await link.innerText(), `web #${number}`);
    await row.click();
    await page.locator('tr.attempts:not([hidden])').getByText('200').first().waitFor();
    const m = await waitFor(
      () => s.receiver.got.find((x) => x.headers['webhook-id'] === `msg_${build}_build.completed_${id}`),
      5000,
      'the message at the receiver',
    );
    new Webhook(secret).verify(m.body, {
      'webhook-id': String(m.headers['webhook-id']),
      'webhook-timestamp': String(m.headers['webhook-timestamp']),
      'webhook-signature': String(m.headers['webhook-signature']),
    });
    assert.equal(await page.getByTestId('chart').locator('g[data-hour]').count(), 24);
    await page
      .getByTestId('stats')
      .getByText(/Success rate 100%/)
      .waitFor({ timeout: 10_000 });
    await page.getByTestId('filter-state').selectOption('failed');
    await page.getByTestId('no-deliveries').waitFor();
    await page.getByTestId('filter-state').selectOption('');
    await row.waitFor();
  });

  it('lists deliveries by build number, long URLs on one line each, whole on hover, at any width', async () => {
    const long = `${s.receiver.url}/${'a-rather-long-path-segment/'.repeat(8)}end?channel=builds-and-deploys`;
    await apiCall(s.server.base, TOKEN, 'POST', '/api/endpoints', { url: long, events: ['build.completed'] });
    const res = await sendGithub(
      s.server.base,
      githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
      's',
    );
    const build = res.json.builds[0].id as string;
    const number = (await apiCall(s.server.base, TOKEN, 'GET', `/api/builds/${build}`)).json.number;
    await waitFor(
      async () =>
        (await apiCall(s.server.base, TOKEN, 'GET', `/api/deliveries?build=${build}`)).json.deliveries.some(
          (d: { target: string; state: string }) => d.target === long && d.state === 'delivered',
        ),
      20_000,
      'the delivery to the long URL',
    );
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto(`${s.server.base}/#/deliveries`);
      const target = page.getByTestId('delivery-target').filter({ hasText: 'a-rather-long' }).first();
      await target.waitFor();
      const row = page.locator('tr[data-delivery]', { has: target });
      assert.equal(await row.locator(`a[href="#/builds/${build}"]`).innerText(), `web #${number}`);
      // The whole URL is there (hover, copy), cut to the column on screen.
      assert.equal(await target.getAttribute('title'), long);
      assert.equal(await target.textContent(), long);
      const box = await target.evaluate((el: any) => ({
        cut: el.scrollWidth > el.clientWidth,
        height: el.getBoundingClientRect().height,
        line: parseFloat((globalThis as any).getComputedStyle(el).lineHeight) || 20,
        right: el.getBoundingClientRect().right,
        cell: el.parentElement.getBoundingClientRect().right,
      }));
      assert.ok(box.cut, `at ${width} px the URL is cut with an ellipsis`);
      assert.ok(box.height < box.line * 1.5, `at ${width} px the URL is one line (${box.height} px)`);
      assert.ok(box.right <= box.cell + 0.5, `at ${width} px the URL stays inside its column`);
      // Every row's cells start at the same x as the header's: the columns line up.
      const lefts = await page
        .getByTestId('deliveries')
        .locator('tr')
        .evaluateAll((trs: any[]) =>
          trs.map((tr) =>
            [...tr.children].map((c: any) => Math.round(c.getBoundingClientRect().left)).join(),
          ),
        );
      assert.equal(new Set(lefts).size, 1, `at ${width} px the columns line up`);
      if (width === 1280) {
        const fits = await page
          .getByTestId('deliveries')
          .evaluate((t: any) => t.scrollWidth <= t.parentElement.clientWidth);
        assert.ok(fits, 'the table fits the page without scrolling sideways');
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${s.server.base}/#/endpoints/${id}`);
    await page.getByTestId('pause').waitFor();
  });

  it('pauses, resumes, rotates and deletes from the page, and marks a disabled endpoint', async () => {
    await page.getByTestId('pause').click();
    await page.locator('h2 [data-state="paused"]').waitFor();
    await page.getByTestId('resume').click();
    await page.locator('h2 [data-state="active"]').waitFor();
    await page.getByTestId('rotate').click();
    await page.getByTestId('secret-panel').waitFor();
    const rotated = (await page.getByTestId('secret').innerText()).trim();
    assert.notEqual(rotated, secret);
    // The panel shows from the rotation's answer; the endpoint's line updates with the reload after it.
    await page.locator('main', { hasText: /old secret signs too until/ }).waitFor();

    const gone = await startReceiver(() => 410);
    try {
      const e = await apiCall(s.server.base, TOKEN, 'POST', '/api/endpoints', {
        url: gone.url,
        events: ['build.completed'],
      });
      await sendGithub(
        s.server.base,
        githubPush({ before: s.repo.commits[0]!, after: s.repo.commits[0]! }),
        's',
      );
      await waitFor(
        async () =>
          (await apiCall(s.server.base, TOKEN, 'GET', `/api/endpoints/${e.json.id}`)).json.state ===
          'disabled',
        20_000,
        'the 410 to disable it',
      );
      await page.goto(`${s.server.base}/#/endpoints`);
      await page.locator(`tr[data-endpoint="${e.json.id}"] [data-state="disabled"]`).waitFor();
      await page.getByTestId('disabled-count').waitFor();
      assert.equal(await page.getByTestId('disabled-count').innerText(), '1');
    } finally {
      await gone.close();
    }

    await page.goto(`${s.server.base}/#/endpoints/${id}`);
    await page.getByTestId('delete').click();
    await page.getByTestId('endpoints').waitFor();
    assert.equal(await page.locator(`tr[data-endpoint="${id}"]`).count(), 0);
    assert.equal((await apiCall(s.server.base, TOKEN, 'GET', `/api/endpoints/${id}`)).status, 404);
  });
});
