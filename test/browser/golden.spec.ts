// taef2_rand_8x8 decoded in Chromium on each backend, against the golden reference output
// (../shared/golden; tolerances as in test/gpu.golden.test.ts: raw max abs < 2e-3, <= 1 level in 8 bits).
import type { DecodeResult } from '../../demo/test.js';
import { loadGolden, maxLevelDiff, toRgb8 } from '../support/golden.js';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, maxAbsDiff, test } from './fixtures.js';

// The test page reads the weights and golden latents from ../shared through the dev server.
test.skip(!HAS_SHARED, NO_SHARED_REASON);

const NAME = 'taef2_rand_8x8';
const RAW_TOL = 2e-3;
const LEVEL_TOL = 1;

interface Measured { maxAbs: number; maxLevel: number }

function againstGolden(r: DecodeResult): Measured {
  const g = loadGolden(NAME);
  expect([r.height, r.width]).toEqual([g.image.shape[1], g.image.shape[2]]);
  return {
    maxAbs: maxAbsDiff(r.raw, g.image.data),
    maxLevel: maxLevelDiff(Uint8ClampedArray.from(r.rgba), toRgb8(g.image.data, r.width * r.height)),
  };
}

function log(label: string, r: DecodeResult, m: Measured): void {
  console.log(
    `${NAME} ${label}: backend ${r.backend}, max abs ${m.maxAbs.toExponential(2)}, max level ${m.maxLevel}; ` +
      `create ${r.createMs.toFixed(0)} ms, first decode ${r.firstMs.toFixed(0)} ms, warm decode ${r.ms.toFixed(0)} ms`,
  );
}

test('issue 3: WebGPU f32 in the page matches the golden', async ({ testPage: page }) => {
  const env = await page.evaluate(() => window.taesdTest.env());
  console.log(`adapter: ${JSON.stringify(env.adapter)}`);
  expect(env.adapter, 'this Chromium offers no WebGPU adapter').not.toBeNull();

  const r = await page.evaluate((name) => window.taesdTest.decodeGolden(name, { backend: 'webgpu', precision: 'f32' }), NAME);
  const m = againstGolden(r);
  log('webgpu f32', r, m);
  expect(r.backend).toBe('webgpu');
  expect(r.reason).toBe('requested');
  expect(r.repeatable).toBe(true);
  expect(m.maxAbs).toBeLessThanOrEqual(RAW_TOL);
  expect(m.maxLevel).toBeLessThanOrEqual(LEVEL_TOL);
});

test('issue 5: onnxruntime-web wasm in the page agrees with WebGPU and the golden; auto follows its rule', async ({ testPage: page }) => {
  const env = await page.evaluate(() => window.taesdTest.env());
  expect(env.crossOriginIsolated, 'COOP/COEP headers missing: no SharedArrayBuffer, no wasm threads').toBe(true);

  // The page's first ort session fixes the thread count; it is the wasm decode below.
  const wasm = await page.evaluate((name) => window.taesdTest.decodeGolden(name, { backend: 'wasm' }), NAME);
  const threads = await page.evaluate(() => window.taesdTest.wasmThreads());
  const gpu = await page.evaluate((name) => window.taesdTest.decodeGolden(name, { backend: 'webgpu', precision: 'f32' }), NAME);
  const mw = againstGolden(wasm), mg = againstGolden(gpu);
  const cross = maxAbsDiff(wasm.raw, gpu.raw);
  log(`wasm (${threads} threads, hardwareConcurrency ${env.hardwareConcurrency})`, wasm, mw);
  log('webgpu f32', gpu, mg);
  console.log(`${NAME} wasm vs webgpu: max abs ${cross.toExponential(2)}`);

  expect(wasm.backend).toBe('wasm');
  expect(threads).toBeGreaterThanOrEqual(1);
  expect(threads).toBe(Math.min(4, env.hardwareConcurrency));
  expect(cross).toBeLessThanOrEqual(RAW_TOL);
  for (const m of [mw, mg]) {
    expect(m.maxAbs).toBeLessThanOrEqual(RAW_TOL);
    expect(m.maxLevel).toBeLessThanOrEqual(LEVEL_TOL);
  }

  const auto = await page.evaluate((name) => window.taesdTest.decodeGolden(name, { backend: 'auto' }), NAME);
  const ma = againstGolden(auto);
  console.log(`auto picked ${auto.backend}: ${auto.reason}`);
  log('auto', auto, ma);
  // The rule: WASM on a CPU-emulated adapter (SwiftShader here), WebGPU on a hardware one.
  if (env.adapter?.isFallbackAdapter) {
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toMatch(/CPU-emulated/);
  } else expect(auto.backend).toBe('webgpu');
  expect(ma.maxAbs).toBeLessThanOrEqual(RAW_TOL);
});
