/**
 * npm run screenshots: renders the README's dashboard pictures from a real server, real builds and a
 * real headless Chromium, into test/screenshots/. Run by hand when the dashboard changes; `npm test`
 * never writes tracked files.
 */
import { join } from 'node:path';
import { launchBrowser, loggedInPage } from '../helpers/browser.ts';
import { makeRepo } from '../helpers/git.ts';
import { githubPush, sendGithub } from '../helpers/payloads.ts';
import { waitFor } from '../helpers/receiver.ts';
import { startRedis } from '../helpers/redis.ts';
import { startServer } from '../helpers/server.ts';

const OUT = import.meta.dirname;

const WEB = (cloneUrl: string) => `name: web
repository: octo-org/web
clone-url: ${cloneUrl}
on: push
jobs:
  lint:
    steps:
      - name: eslint
        run: echo "0 problems"
  unit:
    needs: lint
    steps:
      - name: install
        run: |
          echo '::group::npm ci'
          echo "added 412 packages in 3s"
          echo '::endgroup::'
      - name: test
        run: |
          printf '\\033[32m✔\\033[0m parses a push\\n'
          printf '\\033[32m✔\\033[0m matches branches\\n'
          printf '\\033[31m✘ retries a delivery\\033[0m\\n' >&2
          echo "  expected 3 attempts, got 2" >&2
          echo "::error file=src/notify/retry.ts,line=42::retries a delivery: expected 3 attempts, got 2"
          exit 1
  e2e:
    needs: lint
    steps:
      - run: echo "e2e ok"
  deploy:
    needs: [unit, e2e]
    steps:
      - run: echo deploying
`;

const redis = await startRedis();
const repo = makeRepo([{ 'a.txt': '1' }, { 'a.txt': '2' }, { 'a.txt': '3' }]);
const server = await startServer(
  redis,
  { 'web.yml': WEB(repo.dir) },
  { GITHUB_WEBHOOK_SECRET: 's', PUSHCI_API_TOKEN: 'shots' },
);
const browser = await launchBrowser();
try {
  let last = '';
  for (const [i, message] of [
    'Add the retry policy',
    'Fix the badge colour',
    'Retry deliveries with jitter',
  ].entries()) {
    const res = await sendGithub(
      server.base,
      githubPush({
        before: repo.commits[Math.max(0, i - 1)]!,
        after: repo.commits[i]!,
        repo: 'octo-org/web',
        message,
      }),
      's',
    );
    last = res.json.builds[0].id as string;
    await waitFor(
      async () => {
        const b = (await (await server.api(`/api/builds/${last}`)).json()) as { status: string };
        return !['queued', 'running'].includes(b.status);
      },
      60_000,
      'the build to finish',
    );
  }
  const page = await loggedInPage(browser, server.base, server.token, { width: 1280, height: 820 });
  await page.goto(`${server.base}/#/builds/${last}`);
  await page.getByTestId('logview').waitFor();
  await page.locator('text=expected 3 attempts').first().waitFor();
  await page.getByTestId('annotations').waitFor();
  await page.screenshot({ path: join(OUT, 'dashboard-build.png') });
  await page.goto(`${server.base}/#/`);
  await page.locator('text=Retry deliveries with jitter').first().waitFor();
  await page.screenshot({ path: join(OUT, 'dashboard.png') });
  console.log(`wrote ${join(OUT, 'dashboard-build.png')} and ${join(OUT, 'dashboard.png')}`);
} finally {
  await browser.close();
  await server.close();
  await redis.stop();
}
