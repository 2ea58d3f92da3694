// Issue 10: a WASM decode runs off the main thread (onnxruntime-web's proxy worker), so the page
// never freezes: the longest main-thread task during a 64x64 decode stays under 50 ms.
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, test } from './fixtures.js';

test('a 64x64 WASM decode leaves the main thread free (longest task under 50 ms)', async ({ testPage: page }) => {
  test.skip(!HAS_SHARED, NO_SHARED_REASON);
  const r = await page.evaluate(() => window.taesdTest.mainThreadDuringDecode('taef2_astronaut'));
  console.log(`wasm 64x64 decode ${r.decodeMs.toFixed(0)} ms in a worker: ${r.worker}; longest main-thread task ${r.longestTaskMs.toFixed(0)} ms, longest 10 ms-timer gap ${r.longestTimerGapMs.toFixed(0)} ms`);
  expect(r.backend).toBe('wasm');
  expect(r.worker).toBe(true);
  expect(r.longestTaskMs).toBeLessThan(50);
});
