import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (or CHROMIUM_PATH). */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH].find(
  (p) => p && existsSync(p),
);

/**
 * On a developer's machine without Chromium the suite says it was skipped; in CI (which installs
 * Chromium) a missing browser fails the suite rather than passing it unseen.
 */
export const browserSkip =
  CHROMIUM || process.env.CI
    ? false
    : 'no Chromium found (apt-get install chromium, or set CHROMIUM_PATH): dashboard browser tests skipped';

export async function launchBrowser(): Promise<Browser> {
  assert.ok(CHROMIUM, 'CI is set but no Chromium was found (apt-get install chromium, or set CHROMIUM_PATH)');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page logged in with the API token through the login form's endpoint. */
export async function loggedInPage(
  browser: Browser,
  base: string,
  token: string,
  viewport = { width: 1280, height: 900 },
): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${base}/login?token=${encodeURIComponent(token)}`);
  return page;
}
