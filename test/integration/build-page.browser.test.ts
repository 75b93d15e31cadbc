import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { makeRepo, type TestRepo } from '../helpers/git.ts';
import { githubPush, sendGithub, whsec } from '../helpers/payloads.ts';
import { startReceiver, waitFor } from '../helpers/receiver.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const CI = (cloneUrl: string, hook: string) => `name: ci
repository: octo-org/ci
clone-url: ${cloneUrl}
on: push
notify:
  - url: ${hook}
    secret: \${{ env.CALLBACK_SECRET }}
    events: [build.completed]
jobs:
  lint:
    steps:
      - run: echo lint ok
  unit:
    needs: lint
    steps:
      - uses: actions/checkout@v4
      - uses: ./greet
      - name: prepare
        run: |
          echo preparing
          echo '::group::Install deps'
          echo dep one
          echo dep two
          echo '::endgroup::'
          echo ready
      - name: run tests
        run: |
          echo "test alpha passed"
          echo "test beta FAILED" >&2
          exit 3
      - name: never
        run: echo never
  report:
    needs: unit
    steps:
      - run: echo report
`;

const TAIL = (cloneUrl: string) => `name: tail
repository: octo-org/tail
clone-url: ${cloneUrl}
on: push
jobs:
  tick:
    steps:
      - name: ticks
        run: |
          for i in $(seq 1 20); do echo "tick $(date +%s%3N)"; sleep 0.2; done
`;

const NOTES = (cloneUrl: string) => `name: notes
repository: octo-org/notes
clone-url: ${cloneUrl}
on: push
jobs:
  lint:
    steps:
      - name: eslint
        run: |
          echo "::warning file=src/a.ts,line=3,col=7::unused import"
          echo '## Lint <img src=x onerror="window.pwned=1">' >> "$GITHUB_STEP_SUMMARY"
          echo '2 files checked' >> "$GITHUB_STEP_SUMMARY"
  unit:
    steps:
      - name: tests
        run: |
          echo "::error title=Tests::3 failed <script>window.pwned=2</script>"
          exit 1
`;

const NEST = (cloneUrl: string) => `name: nest
repository: octo-org/nest
clone-url: ${cloneUrl}
on: push
jobs:
  steps:
    steps:
      - uses: ./hooks
      - uses: ./slowgreet
      - run: echo after
`;

const SLOW = (cloneUrl: string) => `name: slow
repository: octo-org/slow
clone-url: ${cloneUrl}
on: push
jobs:
  wait:
    steps:
      - run: sleep 60
`;

describe('the build page in a real headless Chromium', { skip: browserSkip }, () => {
  let redis: TestRedis;
  let repo: TestRepo;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    redis = await startRedis();
    repo = makeRepo([
      { 'a.txt': '1' },
      {
        'a.txt': '2',
        'greet/action.yml':
          'name: greet\nruns:\n  using: composite\n  steps:\n    - shell: bash\n      run: echo hello from greet\n',
        'hooks/action.yml':
          'name: hooks\nruns:\n  using: node20\n  pre: pre.mjs\n  main: main.mjs\n  post: post.mjs\n',
        'hooks/pre.mjs': "console.log('pre ran');\n",
        'hooks/main.mjs': "console.log('main ran');\n",
        'hooks/post.mjs': "console.log('post ran');\n",
        'slowgreet/action.yml':
          'name: slowgreet\nruns:\n  using: composite\n  steps:\n    - name: tick\n      shell: bash\n      run: for i in $(seq 1 12); do echo "slow tick $i"; sleep 0.5; done\n',
      },
    ]);
    receiver = await startReceiver();
    server = await startServer(
      redis,
      {
        'ci.yml': CI(repo.dir, receiver.url),
        'tail.yml': TAIL(repo.dir),
        'slow.yml': SLOW(repo.dir),
        'notes.yml': NOTES(repo.dir),
        'nest.yml': NEST(repo.dir),
      },
      {
        GITHUB_WEBHOOK_SECRET: 's',
        CALLBACK_SECRET: whsec(),
        PUSHCI_API_TOKEN: 'build-page-token',
        PUSHCI_KILL_GRACE_MS: '300',
      },
    );
    browser = await launchBrowser();
    page = await loggedInPage(browser, server.base, server.token);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
    await redis?.stop();
  });
  const push = async (name: string) =>
    (
      await sendGithub(
        server.base,
        githubPush({
          before: repo.commits[0]!,
          after: repo.commits[1]!,
          repo: `octo-org/${name}`,
          message: `Change ${name}`,
        }),
        's',
      )
    ).json.builds[0].id as string;
  const finished = (id: string) =>
    waitFor(
      async () => {
        const b = (await (await server.api(`/api/builds/${id}`)).json()) as { status: string };
        return !['queued', 'running'].includes(b.status) && b;
      },
      60_000,
      `build ${id} to finish`,
    );

  let failed: string;
  it('opens a failed build on its failed job, in step sections with status and duration', async () => {
    failed = await push('ci');
    await finished(failed);
    await page.goto(`${server.base}/#/builds/${failed}`);
    await page.getByTestId('logview').waitFor();
    assert.match(await page.getByTestId('job-title').innerText(), /failure\s+unit/);
    assert.equal(await page.locator('.job.selected').getAttribute('data-job'), 'unit');
    const failing = page.locator('[data-step="run tests"]');
    await failing.locator('text=test beta FAILED').waitFor();
    assert.equal(await failing.getAttribute('data-status'), 'failure');
    assert.equal(await failing.getAttribute('open'), '', 'the failed step is open');
    const prepare = page.locator('[data-step="prepare"]');
    assert.equal(await prepare.getAttribute('data-status'), 'success');
    assert.equal(await prepare.getAttribute('open'), null, 'a step that passed is folded');
    // Actions end with their own line: passed and folded too, not "?" and open.
    for (const action of ['actions/checkout@v4', './greet']) {
      const section = page.locator(`[data-step="${action}"]`);
      assert.equal(await section.getAttribute('data-status'), 'success', action);
      assert.equal(await section.getAttribute('open'), null, action);
    }
    assert.equal(
      await page.locator('[data-step="./greet / echo hello from greet"]').getAttribute('data-status'),
      'success',
    );
    // An action's own steps are sections inside its section, named without the action's name.
    const inner = page.locator(
      '[data-step="./greet"] > .lines > [data-step="./greet / echo hello from greet"]',
    );
    assert.equal(await inner.count(), 1, 'the composite action’s step is inside the action’s section');
    assert.equal(await inner.locator('summary .name').textContent(), 'echo hello from greet');
    assert.match(await prepare.locator('[data-testid="step-duration"]').innerText(), /^\d+(\.\d)? ?m?s$/);
    // A step after the failure did not run: it is listed as skipped, as GitHub lists it.
    assert.equal(
      await page.locator('[data-step="never"]').getAttribute('data-status'),
      'skipped',
      'a step that never started is shown skipped',
    );
    assert.equal(
      await page.locator('[data-step="never"] [data-testid="step-duration"]').textContent(),
      '',
      'with no duration rather than "0 ms"',
    );
    // The group inside the step, its lines in it.
    const group = prepare.locator('[data-testid="group"]');
    assert.match((await group.locator('summary').textContent())!, /Install deps/);
    assert.match((await group.locator('.lines').textContent())!, /dep one[\s\S]*dep two/);
    // Line numbers run through the whole log.
    const numbers = await page
      .locator('[data-testid="log"] .line .ln')
      .evaluateAll((els) => els.map((e) => Number(e.textContent)));
    assert.ok(numbers.length >= 10, `the log's lines are numbered (${numbers.length} numbers found)`);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i + 1),
    );
    // Edges of the graph: lint → unit → report.
    const edges = await page
      .locator('svg.edges path')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-edge')));
    assert.deepEqual(edges.sort(), ['lint->unit', 'unit->report']);
    // Exact times on hover, relative in the text.
    const created = page.locator('time[data-relative]').first();
    assert.match((await created.getAttribute('title'))!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.match(await created.innerText(), /just now|s ago|min ago/);
    // Forge links from the forge's web URL and the repository.
    const b = (await (await server.api(`/api/builds/${failed}`)).json()) as { sha: string };
    assert.equal(
      await page.getByTestId('link-commit').getAttribute('href'),
      `https://github.com/octo-org/ci/commit/${b.sha}`,
    );
    assert.equal(
      await page.getByTestId('link-branch').getAttribute('href'),
      'https://github.com/octo-org/ci/tree/main',
    );
  });

  it('links to a line: the link opens the job, unfolds the section and marks the line', async () => {
    const line = page.locator('[data-step="run tests"] .line', { hasText: 'test beta FAILED' });
    const n = Number(await line.getAttribute('data-line'));
    await line.locator('.ln').click();
    await page.waitForFunction((want) => (globalThis as any).location.hash.endsWith(want), `/unit/L${n}`);
    assert.match((await line.getAttribute('class')) ?? '', /\btarget\b/);
    // A fresh page at the link of a line inside a folded step and group.
    const dep = page.locator('.line', { hasText: 'dep two' });
    const depLine = Number(await dep.getAttribute('data-line'));
    const link = `${server.base}/#/builds/${failed}/unit/L${depLine}`;
    await page.goto(`${server.base}/#/`);
    await page.getByTestId('builds').waitFor();
    await page.goto(link);
    const target = page.locator(`#L${depLine}`);
    await target.waitFor();
    await page.waitForFunction(
      (id) => (globalThis as any).document.getElementById(id)?.classList.contains('target'),
      `L${depLine}`,
    );
    assert.equal(await page.locator('[data-step="prepare"]').getAttribute('open'), '');
    assert.equal(await page.locator('[data-step="prepare"] [data-testid="group"]').getAttribute('open'), '');
    assert.ok(await target.isVisible(), 'the linked line is shown');
    // Another job of the same build, through the graph.
    await page.locator('[data-job="lint"]').click();
    await page.waitForFunction(() => (globalThis as any).location.hash.endsWith('/lint'));
    await page.locator('[data-testid="log"]', { hasText: 'lint ok' }).waitFor();
    assert.match(await page.getByTestId('job-title').innerText(), /success\s+lint/);
  });

  it('lists every job’s annotations above the log and shows a job’s step summary, as text', async () => {
    const id = await push('notes');
    await finished(id);
    await page.goto(`${server.base}/#/builds/${id}`);
    const list = page.getByTestId('annotations');
    await list.waitFor();
    const items = list.locator('li');
    assert.equal(await items.count(), 2);
    // Errors first, each naming its job, step and place.
    assert.equal(await items.nth(0).getAttribute('data-level'), 'error');
    assert.match(
      await items.nth(0).innerText(),
      /unit · tests[\s\S]*Tests: 3 failed <script>window\.pwned=2<\/script>/,
    );
    assert.equal(await items.nth(1).getAttribute('data-level'), 'warning');
    assert.match(await items.nth(1).innerText(), /lint · eslint src\/a\.ts:3:7[\s\S]*unused import/);
    // The failed job is shown; its annotation link opens the other job, whose summary shows.
    await items.nth(1).locator('a').click();
    const summary = page.getByTestId('step-summary');
    await summary.waitFor();
    assert.equal(
      await summary.innerText(),
      '## Lint <img src=x onerror="window.pwned=1">\n2 files checked\n',
    );
    // What steps printed stayed text: no element was made from it, no script ran.
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
  });

  it('searches the log, unfolding what matches, and downloads it raw', async () => {
    await page.goto(`${server.base}/#/builds/${failed}/unit`);
    await page.getByTestId('log-search').waitFor();
    await page.locator('[data-step="run tests"] .line').first().waitFor();
    await page.getByTestId('log-search').fill('dep');
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('[data-testid="log-search-count"]').textContent ===
        '1 of 3',
    );
    const matches = await page.locator('.line.match').evaluateAll((els) => els.map((e) => e.textContent));
    assert.equal(matches.length, 3);
    assert.ok(matches.every((m) => /dep/i.test(m ?? '')));
    assert.equal(await page.locator('[data-step="prepare"]').getAttribute('open'), '', 'search unfolds');
    await page.getByTestId('log-search').press('Enter');
    assert.equal(await page.getByTestId('log-search-count').innerText(), '2 of 3');
    assert.match(await page.locator('.line.current').innerText(), /dep one/);
    await page.getByTestId('log-search').fill('no such words anywhere');
    await page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('[data-testid="log-search-count"]').textContent ===
        '0 of 0',
    );
    const href = (await page.getByTestId('log-download').getAttribute('href'))!;
    const raw = await page.evaluate(async (url) => {
      const res = await fetch(url, { credentials: 'same-origin' });
      return { disposition: res.headers.get('content-disposition'), text: await res.text() };
    }, href);
    assert.match(raw.disposition!, /^attachment; filename="ci-1-unit\.log"/);
    assert.match(raw.text, /Z ! test beta FAILED\n/);
  });

  it('lists the build’s deliveries with their time, and redelivers one', async () => {
    await page.goto(`${server.base}/#/builds/${failed}`);
    const row = page.getByTestId('deliveries').locator('tr[data-delivery]');
    await waitFor(() => receiver.got.length >= 1, 20_000, 'the first delivery');
    // The delivery is recorded after the receiver answered: reload until the page shows it.
    await waitFor(
      async () => {
        await page.reload();
        await page.getByTestId('logview').waitFor();
        return (await row.count()) === 1 && /delivered/.test(await row.innerText());
      },
      20_000,
      'the delivery on the page',
    );
    assert.match((await row.locator('time').getAttribute('title'))!, /^\d{4}-/);
    await row.getByTestId('redeliver').click();
    await waitFor(() => receiver.got.length >= 2, 20_000, 'the redelivery');
    assert.equal(receiver.got[1]!.headers['webhook-id'], receiver.got[0]!.headers['webhook-id']);
  });

  it('re-runs only the failed jobs: a new build where the others keep their results', async () => {
    await page.goto(`${server.base}/#/builds/${failed}`);
    await page.getByTestId('rerun-failed').click();
    await page.waitForFunction(
      (old) =>
        /^#\/builds\/[0-9a-z]+$/.test((globalThis as any).location.hash) &&
        !(globalThis as any).location.hash.includes(old),
      failed,
    );
    const id = page.url().split('/').pop()!;
    await page
      .locator('h2', { hasText: 'ci #2' })
      .locator('[data-status="failure"]')
      .waitFor({ timeout: 30_000 });
    assert.equal(await page.getByTestId('rerun-of').innerText(), failed);
    const b = (await (await server.api(`/api/builds/${id}`)).json()) as any;
    const old = (await (await server.api(`/api/builds/${failed}`)).json()) as any;
    const lint = b.jobs.find((j: any) => j.name === 'lint');
    assert.equal(lint.started_at, old.jobs.find((j: any) => j.name === 'lint').started_at, 'lint was kept');
    assert.match(lint.reason, /^kept from #1/);
    const unit = b.jobs.find((j: any) => j.name === 'unit');
    assert.ok(Date.parse(unit.started_at) > Date.parse(old.finished_at), 'unit ran again');
    // The kept job's log is shown in the new build.
    await page.locator('[data-job="lint"]').click();
    await page.locator('[data-testid="log"]', { hasText: 'lint ok' }).waitFor();
  });

  it('nests an action’s steps, its pre and its post in the action’s section, live as they run', async () => {
    const id = await push('nest');
    await page.goto(`${server.base}/#/builds/${id}`);
    await page.locator('[data-log-job="steps"] [data-testid="log"]').waitFor();
    // While the composite action's step runs, its lines arrive inside it, and the action is open.
    const action = page.locator('[data-log-job="steps"] [data-step="./slowgreet"]');
    const tick = action.locator('> .lines > [data-step="./slowgreet / tick"]');
    // One look, in the page, at the moment the third line arrives: what it is in and what is open.
    const seen = await page.waitForFunction(
      () => {
        const doc = (globalThis as any).document;
        const action = doc.querySelector('[data-log-job="steps"] [data-step="./slowgreet"]');
        const tick = action?.querySelector(':scope > .lines > [data-step="./slowgreet / tick"]');
        const line = [...(tick?.querySelectorAll('.line') ?? [])].some((l: any) =>
          l.textContent.includes('slow tick 3'),
        );
        return line && { status: tick.dataset.status, action: action.open, tick: tick.open };
      },
      null,
      { timeout: 30_000, polling: 'raf' },
    );
    assert.deepEqual(await seen.jsonValue(), { status: 'running', action: true, tick: true });
    assert.equal(await tick.locator('summary .name').innerText(), 'tick');
    const done = (await finished(id)) as { status: string };
    const text = await (await server.api(`/api/builds/${id}/jobs/steps/log`)).text();
    assert.equal(done.status, 'success', text);
    await tick.locator('.line', { hasText: 'slow tick 12' }).waitFor({ state: 'attached' });
    await page
      .locator('[data-log-job="steps"] [data-step="echo after"][data-status="success"]')
      .waitFor({ state: 'attached' });
    assert.equal(await action.getAttribute('data-status'), 'success');
    assert.equal(await action.getAttribute('open'), null, 'a passed action folds, its steps with it');
    // The node action's pre and post are inside it, around its own lines.
    const hooks = page.locator('[data-log-job="steps"] [data-step="./hooks"]');
    assert.equal(await hooks.getAttribute('data-status'), 'success');
    const pre = hooks.locator('> .lines > [data-step="Pre ./hooks"]');
    const post = hooks.locator('> .lines > [data-step="Post ./hooks"]');
    assert.equal(await pre.count(), 1, 'the pre is inside the action');
    assert.equal(await post.count(), 1, 'the post is inside the action');
    assert.equal(await pre.getAttribute('data-status'), 'success');
    assert.equal(await post.getAttribute('data-status'), 'success');
    // Collapsible like any step: unfold the action, then its pre.
    await hooks.locator('> summary').click();
    assert.equal(await hooks.getAttribute('open'), '');
    await pre.locator('> summary').click();
    await pre.locator('.line', { hasText: 'pre ran' }).waitFor();
    assert.match(
      await hooks
        .locator('> .lines > .line')
        .allInnerTexts()
        .then((t) => t.join('\n')),
      /main ran/,
    );
    await post.locator('> summary').click();
    await post.locator('.line', { hasText: 'post ran' }).waitFor();
    assert.equal(
      await page.locator('[data-log-job="steps"] .log > [data-step$=" ./hooks"]').count(),
      0,
      'no pre or post is left outside it',
    );
  });

  it('follows a running log with under half a second of delay, with running clocks', async (t) => {
    const id = await push('tail');
    await page.goto(`${server.base}/#/builds/${id}`);
    // This build's log, not the one of the page it came from (still shown while this one loads).
    await page.locator('[data-log-job="tick"] [data-testid="log"]').waitFor();
    // Record, in the page, how late each tick line arrives after the step printed it.
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__delays = [];
      new w.MutationObserver((records: any[]) => {
        const now = Date.now();
        for (const r of records)
          for (const n of r.addedNodes) {
            const m = /tick (\d{13})/.exec(n.textContent ?? '');
            if (m && n.classList?.contains('line')) w.__delays.push(now - Number(m[1]));
          }
      }).observe(w.document.querySelector('[data-log-job="tick"] [data-testid="log"]'), {
        childList: true,
        subtree: true,
      });
    });
    await page.locator('[data-step="ticks"][data-status="running"]').waitFor({ timeout: 20_000 });
    const clock = page.locator('[data-step="ticks"] [data-testid="step-elapsed"]');
    const first = await clock.innerText();
    await page.waitForTimeout(1200);
    assert.notEqual(await clock.innerText(), first, 'the running step’s clock moves');
    await page.getByTestId('job-elapsed').waitFor({ timeout: 3000 });
    await page.locator('[data-step="ticks"][data-status="success"]').waitFor({ timeout: 30_000 });
    const delays = (await page.evaluate(() => (globalThis as any).__delays)) as number[];
    assert.ok(delays.length >= 10, `saw ${delays.length} tick lines arrive live`);
    const sorted = [...delays].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
    t.diagnostic(
      `live tail delay: median ${median} ms, p90 ${p90} ms, max ${sorted.at(-1)} ms over ${delays.length} lines`,
    );
    assert.ok(median < 500, `median delay ${median} ms`);
  });

  it('shows a cancel within a second', async (t) => {
    const id = await push('slow');
    await page.goto(`${server.base}/#/builds/${id}`);
    await page.locator('[data-job="wait"].running').waitFor({ timeout: 20_000 });
    // Timed in the page: from the click to the heading saying "canceling" (the server applied it),
    // then "canceled" (the step's processes are gone).
    await page.evaluate(() => {
      const w = globalThis as any;
      w.__clicked = w.__canceling = w.__canceled = null;
      w.document.addEventListener(
        'click',
        (e: any) => {
          if (e.target.closest('[data-testid="cancel"]')) w.__clicked = performance.now();
        },
        true,
      );
      new w.MutationObserver(() => {
        const now = performance.now();
        if (
          w.__canceling === null &&
          w.document.querySelector('h2 [data-status="canceling"], h2 [data-status="canceled"]')
        )
          w.__canceling = now;
        if (w.__canceled === null && w.document.querySelector('h2 [data-status="canceled"]'))
          w.__canceled = now;
      }).observe(w.document.getElementById('main'), { childList: true, subtree: true });
    });
    await page.getByTestId('cancel').click();
    await page.locator('h2 [data-status="canceled"]').waitFor({ timeout: 10_000 });
    const [shown, done] = (await page.evaluate(() => {
      const w = globalThis as any;
      return [w.__canceling - w.__clicked, w.__canceled - w.__clicked];
    })) as [number, number];
    t.diagnostic(
      `cancel shown ${Math.round(shown)} ms after the click, canceled (processes gone) after ${Math.round(done)} ms`,
    );
    assert.ok(shown < 1000, `the cancel showed ${Math.round(shown)} ms after the click`);
    assert.equal(await page.locator('[data-job="wait"]').getAttribute('data-status'), 'canceled');
  });
});
