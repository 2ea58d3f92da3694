// A `page` fixture that fails the test on any console error, uncaught page error, failed request
// or HTTP error response, and a `testPage` fixture: demo/test.html loaded, window.taesdTest ready.
import { expect, test as base, type Page } from '@playwright/test';

export interface Problems {
  readonly list: string[];
}

export const test = base.extend<{ problems: Problems; testPage: Page }>({
  problems: async ({}, use) => {
    await use({ list: [] });
  },
  page: async ({ page, problems }, use, testInfo) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.list.push(`console.error: ${msg.text()} (${msg.location().url})`);
      else if (process.env.TAESD_TEST_VERBOSE) console.log(`[page ${msg.type()}] ${msg.text()}`);
    });
    page.on('pageerror', (err) => problems.list.push(`page error: ${err.stack ?? err.message}`));
    const checks: Promise<void>[] = [];
    page.on('requestfailed', (req) => {
      const why = req.failure()?.errorText ?? '?';
      checks.push((async () => {
        // Chromium reports a 2xx body read to its end through response.body.getReader() (as
        // pollProgress reads, with a byte cap) as ERR_ABORTED about half the time: not a failure.
        if (why === 'net::ERR_ABORTED' && (await req.response().catch(() => null))?.ok()) return;
        problems.list.push(`request failed: ${req.method()} ${req.url()}: ${why}`);
      })());
    });
    page.on('response', (res) => {
      if (res.status() >= 400) problems.list.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
    });
    await use(page);
    await Promise.all(checks);
    if (problems.list.length) await testInfo.attach('page problems', { body: problems.list.join('\n'), contentType: 'text/plain' });
    expect(problems.list, 'console errors, page errors or failed requests').toEqual([]);
  },
  testPage: async ({ page }, use) => {
    await page.goto('/test.html');
    await page.waitForFunction(() => typeof window.taesdTest === 'object', undefined, { timeout: 60_000 });
    await use(page);
  },
});

export { expect };

/** max |a - b| over equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
