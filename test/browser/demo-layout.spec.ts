// The demo at phone and desktop widths: no sideways scrolling from 360 px up, no select whose
// options show cut off, after a run (filmstrip and timings filled) and with an error showing;
// screenshots kept in test-results/ to look at.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors } from '../../src/weights/safetensors.js';
import { clippedOptions, horizontalOverflow, openDemo, playRun } from './demoPage.js';
import { expect, test } from './fixtures.js';

const RESULTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results');

for (const [width, height] of [[1280, 800], [390, 844], [360, 740]] as const) {
  test(`${width}x${height}: no horizontal scroll${width === 360 ? '' : '; screenshot'}`, async ({ page }, testInfo) => {
    await page.setViewportSize({ width, height });
    await openDemo(page);
    expect(await horizontalOverflow(page)).toEqual({ scrollWidth: width, clientWidth: width });
    expect(await clippedOptions(page)).toEqual([]);
    if (width !== 360) {
      const path = `${RESULTS}/demo-${width}x${height}-first-screen.png`;
      await page.screenshot({ path });
      await testInfo.attach(`first screen ${width}x${height}`, { path, contentType: 'image/png' });
    }

    await page.selectOption('#backend', 'linear');
    expect((await playRun(page)).state).toBe('done');
    const after = await horizontalOverflow(page);
    expect(after.scrollWidth).toBeLessThanOrEqual(after.clientWidth);
    if (width !== 360) {
      const path = `${RESULTS}/demo-${width}x${height}.png`;
      await page.screenshot({ path, fullPage: true });
      await testInfo.attach(`after a run ${width}x${height}`, { path, contentType: 'image/png' });
    }

    // The longest message the page shows: a model with no local weights.
    const latent = encodeSafetensors({ latent: { dtype: 'F32', shape: [4, 8, 8], data: new Float32Array(256) } });
    await page.setInputFiles('#files', { name: 'sd.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(latent) });
    await page.selectOption('#backend', 'auto');
    expect((await playRun(page)).state).toBe('error');
    const withError = await horizontalOverflow(page);
    expect(withError.scrollWidth).toBeLessThanOrEqual(withError.clientWidth);
  });
}
