// A browser without WebGPU (navigator.gpu hidden before the page loads): 'webgpu' fails with a
// typed NO_WEBGPU error, and 'auto' decodes on WASM and says why; the demo's Video section takes WASM.
import { loadGolden, maxLevelDiff, toRgb8 } from '../support/golden.js';
import { golden, HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { openDemo } from './demoPage.js';
import { expect, maxAbsDiff, test } from './fixtures.js';

// The test page reads the weights and golden latents from ../shared through the dev server.
test.skip(!HAS_SHARED, NO_SHARED_REASON);

test.beforeEach(async ({ page }) => {
  await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
});

test("without navigator.gpu, 'webgpu' rejects with NO_WEBGPU and 'auto' falls back to WASM", async ({ testPage: page }) => {
  const code = await page.evaluate(() =>
    window.taesdTest.decodeGolden('taef2_rand_8x8', { backend: 'webgpu' }).then(() => 'decoded', (e: { code?: string }) => e.code ?? String(e)),
  );
  expect(code).toBe('NO_WEBGPU');

  const r = await page.evaluate(() => window.taesdTest.decodeGolden('taef2_rand_8x8', { backend: 'auto' }));
  console.log(`no WebGPU: auto picked ${r.backend} (${r.reason})`);
  expect(r.backend).toBe('wasm');
  expect(r.reason).toMatch(/no WebGPU/);
  const g = loadGolden('taef2_rand_8x8');
  expect(maxAbsDiff(r.raw, g.image.data)).toBeLessThan(2e-3);
  expect(maxLevelDiff(Uint8ClampedArray.from(r.rgba), toRgb8(g.image.data, r.width * r.height))).toBeLessThanOrEqual(1);
});

test('the demo\'s Video section picks WASM without navigator.gpu, says so, and decodes there', async ({ page }) => {
  await openDemo(page);
  await expect(page.locator('#video-backend')).toHaveValue('auto');
  await expect(page.locator('#video-backend option[value="webgpu"]')).toBeDisabled();
  await page.fill('#video-weights-url', '/shared/models/test/taew2_1_randw.pth');
  await page.dispatchEvent('#video-weights-url', 'change');
  await page.setInputFiles('#video-files', golden('taew2_1_rand_t3'));
  await page.click('#video-decode');
  await expect(page.locator('#video-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(page.locator('#video-output')).toHaveText('9 frames, 48 × 32, taew2_1 on wasm');
  await expect(page.locator('#video-drawn')).toContainText('from the CPU');
});
