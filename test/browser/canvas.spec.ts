// decodeToCanvas draws what decode() returns. On WebGPU it renders into the canvas's 'webgpu'
// context with no readback; the spec reads it back through a 2D canvas (drawImage +
// getImageData) and wants every byte equal (the image is opaque: alpha 255 both ways).
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, test } from './fixtures.js';

// The test page reads the weights and golden latents from ../shared through the dev server.
test.skip(!HAS_SHARED, NO_SHARED_REASON);

const NAME = 'taef2_rand_8x8';

for (const target of ['element', 'offscreen'] as const) {
  test(`decodeToCanvas on WebGPU draws the same pixels as decode() (${target === 'element' ? '<canvas>' : 'OffscreenCanvas'})`, async ({ testPage: page }) => {
    const r = await page.evaluate(([name, t]) => window.taesdTest.canvasMatchesDecode(name, 'webgpu', t), [NAME, target] as const);
    console.log(`decodeToCanvas webgpu ${target}: ${r.width}x${r.height}, canvas ${r.canvasSize.join('x')}, ${r.differing} differing bytes (max diff ${r.maxDiff}), ${r.ms.toFixed(0)} ms`);
    expect(r.backend).toBe('webgpu');
    expect([r.width, r.height]).toEqual([64, 64]);
    expect(r.canvasSize).toEqual([64, 64]);
    expect(r.differing).toBe(0);
  });
}

test('decodeToCanvas on the linear backend (2D context) draws the same pixels as decode()', async ({ testPage: page }) => {
  const r = await page.evaluate((name) => window.taesdTest.canvasMatchesDecode(name, 'linear'), NAME);
  expect(r.backend).toBe('linear');
  expect([r.width, r.height]).toEqual([8, 8]);
  expect(r.differing).toBe(0);
});

test('decodeToCanvas on the linear backend with a device draws through the WGSL kernel, within a level of decode()', async ({ testPage: page }) => {
  const r = await page.evaluate((name) => window.taesdTest.canvasMatchesDecode(name, 'linear', 'offscreen', true), NAME);
  console.log(`linear on WebGPU canvas: ${r.width}x${r.height}, ${r.differing} differing bytes, max diff ${r.maxDiff}`);
  expect(r.backend).toBe('linear');
  expect(r.canvasSize).toEqual([8, 8]);
  expect(r.maxDiff).toBeLessThanOrEqual(1);
});
