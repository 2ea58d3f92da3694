// "Follow a job" in the demo: a job folder that `taesd-web progress` is writing in the background,
// served by the dev server at /jobs/ (no-store, no path escapes), followed to "completed"; a job
// that ended in an error; and one that does not exist (its 404s shown, then given up on).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT } from '../support/shared.js';
import { openDemo, settled } from './demoPage.js';
import { expect, test } from './fixtures.js';

/** Where the dev server serves /jobs/ from (set by playwright.config.ts). */
const JOBS = process.env.TAESD_JOBS!;

test('a job the CLI is writing is followed to completed; /jobs/ sends no-store and refuses escapes', async ({ page, request }) => {
  test.skip(!existsSync(join(ROOT, 'dist/src/cli/main.js')), 'the CLI runs from dist/: npm run build first');
  const jobId = `demo-${Date.now()}`;
  await mkdir(JOBS, { recursive: true });
  // WASM in Node takes about a second per 16x16 step on this machine: the job is written slowly.
  const cli = spawn(process.execPath, ['bin/taesd-web.js', 'progress', '--example', '--job-id', jobId, '--root', JOBS, '--backend', 'wasm'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  cli.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => cli.on('exit', (code) => resolve(code ?? -1)));
  try {
    await expect.poll(() => existsSync(join(JOBS, 'progress', jobId, 'progress.json')), { timeout: 90_000 }).toBe(true);
    await openDemo(page);
    await page.evaluate(() => {
      const status = document.getElementById('poll-status')!;
      const seen: string[] = [];
      (window as unknown as { pollSeen: string[] }).pollSeen = seen;
      new MutationObserver(() => seen.push(status.textContent ?? '')).observe(status, { childList: true, characterData: true, subtree: true });
    });
    await page.fill('#poll-url', `/jobs/progress/${jobId}/progress.json`);
    await page.click('#poll-start');
    const r = await settled(page, 'poll-status', 120_000);
    expect(await exited, stderr).toBe(0);
    expect(r).toEqual({ state: 'done', text: `${jobId}: completed, 100%` });
    const seen = await page.evaluate(() => (window as unknown as { pollSeen: string[] }).pollSeen);
    console.log(`followed ${jobId}: ${seen.join(' | ')}`);
    expect(seen.some((s) => s.includes(': generating,'))).toBe(true);
    await expect(page.locator('#poll-progress')).toHaveJSProperty('value', 100);
    await expect(page.locator('#poll-step')).toHaveText('done: 8 steps');
    const image = page.locator('#poll-image');
    await expect(image).toHaveAttribute('src', new RegExp(`/jobs/progress/${jobId}/step_final\\.jpeg$`));
    expect(await image.evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).toBe(128);
  } finally {
    cli.kill();
  }

  const json = await request.get(`/jobs/progress/${jobId}/progress.json`);
  expect(json.headers()['cache-control']).toBe('no-store');
  for (const escape of ['/jobs/..%2fpackage.json', '/jobs/progress/%2e%2e%2f%2e%2e%2f..%2fpackage.json', '/jobs/%2fetc%2fpasswd']) {
    const res = await request.get(escape);
    expect(res.status(), escape).toBe(404);
  }
});

test('a job that ended in an error shows the error', async ({ page }) => {
  const dir = join(JOBS, 'progress', 'demo-error');
  await mkdir(dir, { recursive: true });
  const error = 'cannot write step_0002.jpeg in job progress/demo-error: no space left on device (ENOSPC)';
  await writeFile(join(dir, 'progress.json'), JSON.stringify({
    job_id: 'demo-error', status: 'error', current_step: 2, total_steps: 8, progress_percent: 25, latest_image: null, timestamp: Date.now() / 1000, error,
  }));
  await openDemo(page);
  await page.fill('#poll-url', '/jobs/progress/demo-error/progress.json');
  await page.click('#poll-start');
  expect(await settled(page, 'poll-status')).toEqual({ state: 'error', text: `demo-error: error: ${error}` });
  await expect(page.locator('#poll-progress')).toHaveJSProperty('value', 25);
});

test('a job that does not exist: the 404s show in the page, and polling stops after 20', async ({ page, problems }) => {
  await openDemo(page);
  const url = '/jobs/progress/no-such-job/progress.json';
  await page.fill('#poll-url', url);
  await page.click('#poll-start');
  await expect(page.locator('#poll-status')).toContainText(`polling ${url}: IO: HTTP 404 for`);
  await expect(page.locator('#poll-status')).toContainText('in a row; giving up at 20');
  const r = await settled(page, 'poll-status', 60_000);
  expect(r.state).toBe('error');
  expect(r.text).toMatch(new RegExp(`^gave up on ${url} after 20 failed polls in a row \\(last: IO: HTTP 404 for http://[^)]+/no-such-job/progress\\.json\\); is the job id right, and has the job started\\?$`));
  await expect(page.locator('#poll-start')).toBeEnabled();
  await expect(page.locator('#poll-stop')).toBeDisabled();
  // The 404s this test asked for are not page problems; anything else still is.
  const expected = (p: string) => p.includes('no-such-job/progress.json') || /console\.error: Failed to load resource: .*404/.test(p);
  const asked = problems.list.filter(expected).length;
  expect(asked).toBeGreaterThanOrEqual(20);
  problems.list.splice(0, problems.list.length, ...problems.list.filter((p) => !expected(p)));
});
