import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser } from '../helpers/browser.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import type { BuildView } from '../../src/model.ts';

/**
 * The attacker's page, on another origin (another loopback port, so the SameSite=Strict cookie still
 * goes along: same site, other origin). It tries every way a page can make a logged-in browser write:
 * HTML forms (urlencoded, and text/plain shaped like JSON) and fetch (no-cors with simple types, and a
 * JSON fetch that needs a CORS preflight). Each result lands in `window.results`.
 */
function attackPage(target: string, build: string, hook: string, secret: string): string {
  const jsonish = (obj: Record<string, string>) => {
    // text/plain forms send `name=value`: a name that opens a JSON object and a value that closes it.
    const text = JSON.stringify({ ...obj, pad: '' });
    return { name: text.slice(0, -2), value: '"}' };
  };
  const forms = [
    {
      action: `/api/builds/${build}/cancel`,
      enctype: 'application/x-www-form-urlencoded',
      field: { name: 'a', value: 'b' },
    },
    { action: '/api/pipelines/quick/trigger', enctype: 'text/plain', field: jsonish({ branch: 'main' }) },
    { action: '/api/endpoints/test', enctype: 'text/plain', field: jsonish({ url: hook, secret }) },
    {
      action: `/api/builds/${build}/cancel`,
      enctype: 'multipart/form-data',
      field: { name: 'a', value: 'b' },
    },
    {
      action: '/admin/queues/api/queues/deliveries/add',
      enctype: 'text/plain',
      field: jsonish({ name: 'x', data: `{"url":"${hook}"}` }),
    },
  ];
  const html = forms
    .map(
      (f, i) =>
        `<iframe name="sink${i}"></iframe><form id="f${i}" method="POST" target="sink${i}" enctype="${f.enctype}" action="${target}${f.action}"><input name='${f.field.name.replace(/'/g, '&#39;')}' value='${f.field.value}'></form>`,
    )
    .join('\n');
  const script = `
    window.results = {};
    const T = ${JSON.stringify(target)};
    const forms = ${forms.length};
    let loaded = 0;
    for (let i = 0; i < forms; i++) {
      document.querySelector('iframe[name=sink' + i + ']').addEventListener('load', () => { loaded++; });
      document.getElementById('f' + i).submit();
    }
    const tries = {
      cancelNoCors: () => fetch(T + '/api/builds/${build}/cancel', { method: 'POST', mode: 'no-cors', credentials: 'include' }),
      triggerNoCors: () => fetch(T + '/api/pipelines/quick/trigger', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"branch":"main"}' }),
      endpointNoCors: () => fetch(T + '/api/endpoints/test', { method: 'POST', mode: 'no-cors', credentials: 'include', body: JSON.stringify({ url: ${JSON.stringify(hook)}, secret: ${JSON.stringify(secret)} }) }),
      triggerJson: () => fetch(T + '/api/pipelines/quick/trigger', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{"branch":"main"}' }),
      cancelJson: () => fetch(T + '/api/builds/${build}/cancel', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' }),
    };
    Promise.all(Object.entries(tries).map(([k, f]) => f().then((r) => (results[k] = 'sent:' + r.type), (e) => (results[k] = 'blocked:' + e.name)))).then(async () => {
      while (loaded < forms) await new Promise((r) => setTimeout(r, 50));
      window.done = true;
    });`;
  return `<!doctype html><html><body>${html}<script>${script}</script></body></html>`;
}

describe(
  'no cross-site writes: a real Chromium, logged in, visits an attacker page',
  { skip: browserSkip },
  () => {
    let redis: TestRedis;
    let repo: TestRepo;
    let server: TestServer;
    let browser: Browser;
    let page: Page;
    let evil: Server;
    let evilBase: string;
    let attack = '';
    let hook: Awaited<ReturnType<typeof startReceiver>>;
    before(async () => {
      redis = await startRedis();
      repo = makeRepo([{ 'a.txt': '1' }]);
      hook = await startReceiver();
      server = await startServer(
        redis,
        {
          'slow.yml': `name: slow\nrepository: octo-org/slow\nclone-url: ${repo.dir}\non: push\njobs:\n  wait:\n    steps:\n      - run: sleep 60\n`,
          'quick.yml': `name: quick\nrepository: octo-org/quick\nclone-url: ${repo.dir}\non: push\njobs:\n  a:\n    steps:\n      - run: 'true'\n`,
        },
        { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_KILL_GRACE_MS: '300' },
      );
      evil = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attack));
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
      evilBase = `http://127.0.0.1:${(evil.address() as AddressInfo).port}`;
      browser = await launchBrowser();
      page = await (await browser.newContext()).newPage();
    });
    after(async () => {
      await browser?.close();
      evil?.closeAllConnections();
      evil?.close();
      await hook?.close();
      await server?.close();
      await redis?.stop();
    });

    const view = async (id: string) => (await (await server.api(`/api/builds/${id}`)).json()) as BuildView;
    const quickBuilds = async () =>
      ((await (await server.api('/api/builds?pipeline=quick')).json()) as { builds: BuildView[] }).builds
        .length;

    it('forms and fetches from another origin change nothing; the dashboard itself still cancels and re-runs', async () => {
      // Log in through the link pushci printed, as a user would.
      await page.goto(`${server.base}/login?token=${encodeURIComponent(server.token)}`);
      await page.getByTestId('empty').waitFor();
      const r = await sendGithub(
        server.base,
        githubPush({ before: '0'.repeat(40), after: repo.commits[0]!, repo: 'octo-org/slow' }),
        's',
      );
      const slow = r.json.builds[0].id as string;
      await waitFor(async () => (await view(slow)).status === 'running', 15_000, 'slow build running');
      const refusedBefore = server.logs.filter((l) => l.error === 'cross_site_request').length;

      attack = attackPage(server.base, slow, hook.url, whsec());
      await page.goto(`${evilBase}/attack.html`);
      await page.waitForFunction(
        () => (globalThis as unknown as { done?: boolean }).done === true,
        undefined,
        {
          timeout: 15_000,
        },
      );
      const results = (await page.evaluate(
        () => (globalThis as unknown as { results: Record<string, string> }).results,
      )) as Record<string, string>;
      // The JSON fetches cannot even be sent: their CORS preflight is never granted.
      assert.match(results.triggerJson!, /^blocked:/);
      assert.match(results.cancelJson!, /^blocked:/);
      // The rest reached pushci with the login cookie (authenticated) and were refused as cross-site.
      await waitFor(
        () => server.logs.filter((l) => l.error === 'cross_site_request').length - refusedBefore >= 8,
        5_000,
        '5 forms and 3 no-cors fetches refused as cross_site_request',
      );
      await new Promise((res) => setTimeout(res, 500));
      assert.equal((await view(slow)).status, 'running', 'the build was not canceled');
      assert.equal(await quickBuilds(), 0, 'nothing was triggered');
      assert.equal(hook.got.length, 0, 'no endpoint test was sent');
      const jobs = (await (await server.api('/admin/queues/api/queues?page=1')).json()) as {
        queues: Array<{ name: string; counts: Record<string, number> }>;
      };
      const deliveries = jobs.queues.find((q) => q.name === 'deliveries')!;
      assert.equal(
        Object.values(deliveries.counts).reduce((a, b) => a + b, 0),
        0,
        'no delivery job was added through Bull Board',
      );

      // Control: the dashboard itself, in the same browser, still cancels and re-runs.
      await page.goto(`${server.base}/#/builds/${slow}`);
      await page.getByTestId('cancel').click();
      await page.locator('h2 [data-status="canceled"]').waitFor({ timeout: 15_000 });
      await page.getByTestId('rerun').click();
      await page.waitForFunction(
        (old) => !(globalThis as unknown as { location: { hash: string } }).location.hash.includes(old),
        slow,
      );
      const rerun = page.url().split('/').pop()!;
      assert.notEqual(rerun, slow);
      assert.equal((await view(rerun)).event, 'rerun');
      // As a person would: the re-run's own page is shown, its job running, before Cancel is clicked
      // (under load the old page can still be on screen for a moment after the address changed).
      await page.getByTestId('rerun-of').waitFor({ timeout: 15_000 });
      await page.locator('[data-job="wait"].running').waitFor({ timeout: 15_000 });
      await page.getByTestId('cancel').click();
      // The page's own cancel (same origin) is accepted and ends the re-run. Its job is only just
      // running (still being set up): a cancel that landed there once ended the job as a success.
      const ended = await waitFor(
        async () =>
          ((v) => (['success', 'failure', 'canceled', 'error'].includes(v.status) ? v : null))(
            await view(rerun),
          ),
        15_000,
        'the re-run to end',
      );
      assert.equal(ended.status, 'canceled');
    });
  },
);
