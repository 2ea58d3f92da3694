// Issue 22 in Chromium: a video job written by Node (golden TAEHV frames from ../shared), followed
// by pollProgress in the page: the APNG shown by <img> at the frame size, a JPEG sheet cut into
// its frames by the layout progress.json gives.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RgbaImage } from '../../src/model/rgba.js';
import { FileSink } from '../../src/progress/fileSink.js';
import { ProgressWriter } from '../../src/progress/writer.js';
import { serveFolder } from '../support/progressServer.js';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { loadVideoGolden } from '../support/videoGolden.js';
import { expect, test } from './fixtures.js';
import { goldenFrames } from '../support/goldenFrames.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');


const meanRed = (im: RgbaImage) => { let s = 0; for (let p = 0; p < im.data.length; p += 4) s += im.data[p]!; return s / (im.data.length / 4); };

for (const format of ['png', 'jpeg'] as const) {
  test(`pollProgress in Chromium follows a video job (${format})`, async ({ page }) => {
    test.skip(!HAS_SHARED, NO_SHARED_REASON);
    const frames = goldenFrames(loadVideoGolden('taew2_1_rand_t3'));
    const dir = await mkdtemp(join(tmpdir(), 'taesd-browser-video-'));
    const server = await serveFolder(dir);
    try {
      await page.goto('/test.html');
      await page.evaluate(async (src) => { await import(/* @vite-ignore */ src); }, `/@fs${ROOT}/test/browser/progress-video-page.ts`);
      await page.waitForFunction(() => typeof window.progressVideoPage === 'object');
      const writer = new ProgressWriter({ sink: new FileSink({ root: dir }), jobId: 'vid', totalSteps: 3, format, quality: 95, sheetFrames: 9 });
      await writer.start();
      const polling = page.evaluate((u) => window.progressVideoPage.pollVideo(u), `${server.origin}/progress/vid/progress.json`);
      for (let s = 0; s < 3; s++) {
        writer.push({ frames: frames.slice(s) });
        await writer.flush();
        await new Promise((r) => setTimeout(r, 300));
      }
      await writer.finish();
      const r = await polling;
      expect(r.status).toBe('completed');
      expect(r.shown.length).toBeGreaterThanOrEqual(2);
      const last = r.shown.at(-1)!;
      expect(last).toMatchObject({ name: `step_final.${format}`, layout: format === 'png' ? 'animation' : 'sheet', frames: 7, fps: 16, frameWidth: 48 });
      if (format === 'png') expect([last.width, last.height]).toEqual([48, 32]);
      else {
        expect([last.width, last.height]).toEqual([3 * 48, 3 * 32]);
        last.cells.forEach((red, i) => expect(Math.abs(red - meanRed(frames[2 + i]!))).toBeLessThan(3));
      }
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
}
