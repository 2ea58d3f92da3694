// Issue 4 in Chromium: platform encoders checked by <img>, the OPFS sink, and pollProgress in
// a page following a job folder that Node writes, served like Python's http.server
// (Last-Modified at one-second granularity, 304 on If-Modified-Since).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { FileSink } from '../../src/progress/fileSink.js';
import { ProgressWriter } from '../../src/progress/writer.js';
import { syntheticImage } from '../support/progressImages.js';
import { serveFolder } from '../support/progressServer.js';
import { expect, test } from './fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function openProgressPage(page: Page): Promise<void> {
  await page.goto('/test.html');
  await page.evaluate(async (src) => {
    await import(/* @vite-ignore */ src);
  }, `/@fs${ROOT}/test/browser/progress-page.ts`);
  await page.waitForFunction(() => typeof window.progressPage === 'object');
}

test('encoders: PNG exact and JPEG close through Chromium\'s <img>; timings', async ({ page }) => {
  await openProgressPage(page);
  const r = await page.evaluate(() => window.progressPage.encoders());
  console.log(`Chromium 512x512: PNG ${r.ms.png.toFixed(1)} ms ${r.sizes.png} B; JPEG q85 platform ${r.ms.jpeg.toFixed(1)} ms ${r.sizes.jpeg} B, MozJPEG wasm ${r.ms.mozjpeg.toFixed(1)} ms ${r.sizes.mozjpeg} B`);
  expect(r.pngDiff).toBe(0);
  expect(r.apngFirstFrameDiff).toBe(0);
  expect(r.jpegDiff).toBeLessThan(40);
  expect(r.mozDiff).toBeLessThan(40);
});

test('OpfsSink: a job in OPFS, read back, gathered, fresh on rerun', async ({ page }) => {
  await openProgressPage(page);
  const r = await page.evaluate(() => window.progressPage.opfs());
  expect(r.record).toMatchObject({ job_id: 'opfs-job', status: 'completed', current_step: 3, progress_percent: 100, latest_image: 'step_final.png' });
  expect(r.names).toEqual(['step_0000.png', 'step_0001.png', 'step_0002.png']);
  expect(r.gatheredDiffs).toEqual([0, 0, 0]);
  expect(r.finalDiff).toBe(0);
  expect(r.afterRerun).toEqual(['step_0000.jpeg']);
});

test('pollProgress in the page follows a job folder written by Node to "completed"', async ({ page }) => {
  const dir = await mkdtemp(join(tmpdir(), 'taesd-browser-poll-'));
  const server = await serveFolder(dir);
  try {
    await openProgressPage(page);
    const writer = new ProgressWriter({ sink: new FileSink({ root: dir }), jobId: 'web', totalSteps: 30 });
    await writer.start();
    const url = `${server.origin}/progress/web/progress.json`;
    const polling = page.evaluate((u) => window.progressPage.poll(u), url);
    const readme = page.evaluate((u) => window.progressPage.readmeLoop(u, 200), url);
    const frames = Array.from({ length: 4 }, (_, i) => syntheticImage(96, 64, i + 1));
    for (let s = 0; s < 30; s++) {
      writer.push(frames[s % 4]!);
      await writer.flush();
      await new Promise((r) => setTimeout(r, 30));
    }
    await writer.finish();
    const r = await polling;
    const plain = await readme;
    console.log(`browser poll: ${r.steps.length} records, ${r.shown.length} images; the README's plain-fetch loop ${plain.completed ? 'saw' : 'never saw'} "completed" in ${plain.polls} polls`);
    expect(r.last).toMatchObject({ status: 'completed', current_step: 30, latest_image: 'step_final.jpeg' });
    for (let i = 1; i < r.steps.length; i++) expect(r.steps[i]!).toBeGreaterThanOrEqual(r.steps[i - 1]!);
    expect(r.shown.length).toBeGreaterThan(3);
    for (const s of r.shown) expect(s.width).toBe(96);
    for (let i = 1; i < r.shown.length - 1; i++) expect(r.shown[i]!.step).toBeGreaterThan(r.shown[i - 1]!.step);
    expect(r.urls.at(-1)).toBe(`${server.origin}/progress/web/step_final.jpeg`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
