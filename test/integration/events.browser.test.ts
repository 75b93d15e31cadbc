import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { githubPullRequest, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { suiteServer } from '../helpers/suite-server.ts';
import type { BuildView } from '../../src/model.ts';
import { fireSchedule } from '../../src/builds/schedules.ts';
import { createLogger } from '../../src/log.ts';

/** Pull request approval and manual inputs as a person uses them, in a real headless Chromium. */
describe('events in the dashboard', { skip: browserSkip }, () => {
  let forkHead: string;
  const s = suiteServer({
    stack: true,
    history: [{ 'a.txt': '1' }],
    pipelines: (repo) => {
      // A fork's head: a commit that only refs/pull/4/head reaches.
      repo.git('checkout', '-q', '--detach');
      forkHead = repo.commit({ 'f.txt': 'fork' }, 'from a fork');
      repo.git('checkout', '-q', 'main');
      repo.git('update-ref', 'refs/pull/4/head', forkHead);
      return {
        'web.yml': `name: web\nrepository: octo-org/web\nclone-url: ${repo.dir}\non:\n  pull_request:\n  schedule:\n    - cron: '0 3 * * *'\n      branch: main\njobs:\n  build:\n    steps:\n      - run: 'true'\n`,
        'deploy.yml': `
name: deploy
repository: octo-org/web
clone-url: ${repo.dir}
on:
  workflow_dispatch:
    inputs:
      environment:
        type: choice
        options: [staging, production]
        default: staging
      dry-run:
        type: boolean
        default: true
jobs:
  deploy:
    steps:
      - run: echo "OUT $INPUT_ENVIRONMENT $INPUT_DRY_RUN"
`,
      };
    },
    env: { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: 'events-token' },
  });
  let browser: Browser;
  let page: Page;

  before(async () => {
    browser = await launchBrowser();
    page = await loggedInPage(browser, s.server.base, s.server.token);
  });
  after(async () => {
    await browser?.close();
  });
  const view = async (id: string) => (await (await s.server.api(`/api/builds/${id}`)).json()) as BuildView;

  it('shows a fork’s pull request waiting for approval, and runs it when someone clicks Approve', async () => {
    const res = await sendGithub(
      s.server.base,
      githubPullRequest({
        number: 4,
        head: forkHead,
        base: s.repo.commits[0]!,
        headRepo: 'mallory/web',
        source: 'x',
      }),
      's',
      { 'x-github-event': 'pull_request' },
    );
    const id = res.json.builds[0].id as string;
    await page.goto(`${s.server.base}/#/builds/${id}`);
    await page.getByTestId('approve').waitFor();
    assert.equal(
      await page.getByTestId('build-event').innerText(),
      'pull_request #4 (fork mallory/web x → main)',
    );
    assert.match(await page.locator('main').innerText(), /waiting for approval/);
    // What it is about: the pull request's title, and its branches rather than refs/pull/4/head.
    assert.equal((await page.getByTestId('headline').innerText()).trim(), 'A change');
    assert.match(await page.locator('.meta').first().innerText(), /#4 x → main/);
    assert.doesNotMatch(await page.locator('.meta').first().innerText(), /refs\/pull/);
    await page.getByTestId('approve').click();
    await waitFor(async () => (await view(id)).status === 'success', 30_000, 'the approved build');
    assert.equal((await view(id)).approval?.by, 'dashboard');
    await page.goto(`${s.server.base}/#/?event=pull_request`);
    await page.locator(`tr[data-build="${id}"]`, { hasText: 'A change' }).waitFor();
    await page.goto(`${s.server.base}/#/builds/${id}`);
    await page.getByTestId('approval').waitFor();
    assert.match(await page.getByTestId('approval').innerText(), /approved by dashboard/);
    assert.equal(await page.getByTestId('approve').count(), 0, 'no approve button once it ran');
    await page.goto(`${s.server.base}/#/pipelines/web`);
    await page.getByTestId('schedule').waitFor();
    assert.equal(
      await page.getByTestId('pipeline-events').innerText(),
      'Builds on: pull_request, schedule, manual',
    );
    // Each schedule with what its latest tick did; this one has not fired.
    assert.equal(await page.getByTestId('schedule').innerText(), '0 3 * * * UTC on main · has not fired yet');
    // A tick, fired as the schedules worker fires it: the page links the build it started…
    const deps = {
      ...s.stack,
      config: s.server.config,
      redis: s.conn,
      log: createLogger('silent'),
      pipelines: () => s.server.pipelines().pipelines,
    };
    const tick = { pipeline: 'web', index: 0, cron: '0 3 * * *', branch: 'main', always: false };
    const fired = await fireSchedule(deps, tick, 'events-tick-1');
    assert.ok('built' in fired, JSON.stringify(fired));
    await page.reload();
    await page.getByTestId('tick-built').waitFor();
    assert.equal(await page.getByTestId('tick-built').getAttribute('href'), `#/builds/${fired.built}`);
    assert.match(
      await page.getByTestId('schedule').innerText(),
      /last tick just now: started a build of main$/,
    );
    // …and says why the next one built nothing.
    await waitFor(async () => (await view(fired.built)).status === 'success', 30_000, 'the scheduled build');
    const again = await fireSchedule(deps, tick, 'events-tick-2');
    assert.ok('skipped' in again, JSON.stringify(again));
    await page.reload();
    await page.getByTestId('tick-skipped').waitFor();
    assert.equal(await page.getByTestId('tick-skipped').innerText(), `nothing built: ${again.skipped}`);
  });

  it('offers a manual build’s inputs as a select and a checkbox, and passes them on', async () => {
    await page.goto(`${s.server.base}/#/pipelines/deploy`);
    // The previous test's pipeline page can still be on screen for a moment after the address changed.
    await page.getByRole('heading', { name: 'deploy' }).first().waitFor();
    await page
      .getByTestId('pipeline-events')
      .filter({ hasText: /^Builds on: manual$/ })
      .waitFor();
    assert.equal(await page.getByTestId('pipeline-events').innerText(), 'Builds on: manual');
    await page.getByTestId('input-environment').selectOption('production');
    await page.getByTestId('input-dry-run').uncheck();
    await page.getByTestId('trigger-run').click();
    await page.waitForURL(/#\/builds\//);
    const id = decodeURIComponent(page.url().split('#/builds/')[1]!);
    await waitFor(async () => (await view(id)).status === 'success', 30_000, 'the manual build');
    const v = await view(id);
    assert.deepEqual(v.inputs, { environment: 'production', 'dry-run': 'false' });
    await page.getByTestId('build-event').waitFor();
    assert.equal(
      await page.getByTestId('build-event').innerText(),
      'manual (environment=production, dry-run=false)',
    );
  });
});
