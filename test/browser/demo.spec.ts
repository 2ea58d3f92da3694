// The demo page (demo/index.html): loads cleanly, plays a short simulated run on the linear
// backend and on auto, shows the step counter and the chosen backend; screenshot for a look.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, test } from './fixtures.js';

// The test page reads the weights and golden latents from ../shared through the dev server.
test.skip(!HAS_SHARED, NO_SHARED_REASON);

/** Kept after the run (Playwright clears only its own outputDir, test-results/playwright). */
const SCREENSHOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/demo.png');

test('demo: loads without console errors, simulates runs on linear and auto', async ({ page }, testInfo) => {
  await page.goto('/');
  const status = page.locator('#status');
  await expect(status).toHaveAttribute('data-state', 'ready', { timeout: 30_000 });
  // Record every value the step counter shows (steps on the linear backend take microseconds).
  await page.evaluate(() => {
    const step = document.getElementById('step')!;
    const seen: string[] = [];
    (window as unknown as { stepsSeen: string[] }).stepsSeen = seen;
    new MutationObserver(() => seen.push(step.textContent ?? '')).observe(step, { childList: true, characterData: true, subtree: true });
  });
  const stepsSeen = () => page.evaluate(() => (window as unknown as { stepsSeen: string[] }).stepsSeen);

  // 4 steps of the linear preview (64x64, instant).
  await page.selectOption('#backend', 'linear');
  await page.fill('#steps', '4');
  await page.click('#simulate');
  await expect(status).toHaveAttribute('data-state', 'done');
  await expect(page.locator('#step')).toHaveText('4/4');
  expect(await stepsSeen()).toEqual(['1/4', '2/4', '3/4', '4/4']);
  await expect(page.locator('#chosen')).toHaveText(/^linear/);
  await expect(page.locator('#output')).toHaveText(/^64×64 px/);

  // 2 steps on auto: full 64x64 latent, 512x512 out (WASM here: the WebGPU adapter is SwiftShader).
  await page.selectOption('#backend', 'auto');
  await page.fill('#steps', '2');
  await page.click('#simulate');
  await expect(status).toHaveAttribute('data-state', 'busy');
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#step')).toHaveText('2/2');
  expect((await stepsSeen()).slice(4)).toEqual(['1/2', '2/2']);
  await expect(page.locator('#output')).toHaveText(/^512×512 px/);
  const chosen = await page.locator('#chosen').textContent();
  const reason = await page.locator('#reason').textContent();
  const ms = await page.locator('#ms').textContent();
  console.log(`demo auto: ${chosen}; ${reason}; ${ms} per step`);
  expect(chosen).toMatch(/^wasm/);

  // The canvas holds the decoded astronaut: 512x512 and not blank.
  const stats = await page.evaluate(() => {
    const canvas = document.querySelector<HTMLCanvasElement>('#canvas')!;
    const copy = document.createElement('canvas');
    copy.width = canvas.width;
    copy.height = canvas.height;
    const ctx = copy.getContext('2d')!;
    ctx.drawImage(canvas, 0, 0);
    const d = ctx.getImageData(0, 0, copy.width, copy.height).data;
    let sum = 0, sq = 0;
    for (let i = 0; i < d.length; i += 4) { const v = (d[i]! + d[i + 1]! + d[i + 2]!) / 3; sum += v; sq += v * v; }
    const n = d.length / 4;
    return { width: canvas.width, height: canvas.height, mean: sum / n, std: Math.sqrt(sq / n - (sum / n) ** 2) };
  });
  expect([stats.width, stats.height]).toEqual([512, 512]);
  expect(stats.std).toBeGreaterThan(20);

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await testInfo.attach('demo', { path: SCREENSHOT, contentType: 'image/png' });

  // Switching to WebGPU swaps in a fresh canvas (the old one holds a 2D context). A 16x16 crop
  // keeps SwiftShader's share short. (Its pixels are checked in canvas.spec.ts: a presented
  // WebGPU frame reads back blank in headless Chromium without a display.)
  await page.selectOption('#backend', 'webgpu');
  await page.selectOption('#size', '16');
  await page.click('#decode');
  await expect(status).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  await expect(page.locator('#chosen')).toHaveText(/^webgpu/);
  await expect(page.locator('#reason')).toHaveText('requested');
  await expect(page.locator('#output')).toHaveText(/^128×128 px from a 32×16×16 latent/);
  console.log(`demo webgpu 16x16 decode: ${await page.locator('#ms').textContent()}`);
});
