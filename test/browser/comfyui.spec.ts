// Issue 23 in Chromium: step latents published by the ComfyUI bridge's Python side (encode_latent,
// the aiohttp route) cross a real websocket into the page, where taesd-web/comfyui decodes them
// against the goldens: an image step (FLUX.2, packed as ComfyUI's sampler holds it) and a video
// step (Wan 2.1, TAEHV on onnxruntime-web), both sent as f16. A format with no decoder comes back
// as a typed error and the stream goes on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packFlux2 } from '../../src/model/latent.js';
import { makeStepMessage, startHubServer, type HubServer } from '../support/comfyServer.js';
import { loadGolden, maxLevelDiff, toRgb8 } from '../support/golden.js';
import { pythonMissing } from '../support/python.js';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { loadVideoGolden } from '../support/videoGolden.js';
import { expect, test } from './fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MISSING = HAS_SHARED ? pythonMissing() : NO_SHARED_REASON;
test.skip(MISSING !== null, MISSING ?? '');

const VIDEO = 'taew2_1_rand_t3';
let server: HubServer;
test.beforeAll(async () => {
  const g = loadGolden('taef2_rand_8x8');
  const v = loadVideoGolden(VIDEO);
  const dir = mkdtempSync(join(tmpdir(), 'taesd-comfy-spec-'));
  server = await startHubServer([
    makeStepMessage(dir, 'flux2', packFlux2(g.latent.data as Float32Array, 8, 8), [1, 128, 4, 4], 'Flux2', 5, 20),
    makeStepMessage(dir, 'wan', v.latent.data as Float32Array, [...v.latent.shape], 'Wan21', 6, 20),
    makeStepMessage(dir, 'mochi', new Float32Array(12 * 2 * 4 * 4), [1, 12, 2, 4, 4], 'Mochi', 7, 20),
  ]);
});
test.afterAll(() => server?.close());

test('an image step and a video step from the Python route decode in the page to the goldens; a format with no decoder is a typed error', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/test.html');
  const r = await page.evaluate(async ([src, port]) => {
    const { ComfyPreviewClient } = (await import(/* @vite-ignore */ src)) as typeof import('../../src/comfyui/index.js');
    const client = new ComfyPreviewClient({
      url: `http://127.0.0.1:${port}`,
      promptId: 'test-prompt',
      weights: (model) => (model === 'taef2' ? '/shared/models/taef2_decoder.safetensors' : `/shared/models/test/${model}_randw.pth`),
      decoder: { backend: 'webgpu', precision: 'f32' },
      videoDecoder: { backend: 'wasm', wasm: { wasmPaths: '/ort/' } },
    });
    const seen: Record<string, { kind?: string; frames?: { width: number; height: number; rgba: number[] }[]; error?: string; step?: number; model?: string; decodeMs?: number }> = {};
    const t0 = performance.now();
    for await (const p of client.previews()) {
      if (p.error) seen['error'] ??= { error: `${p.message?.latentFormat ?? 'unparsed'}: ${p.error.code}: ${p.error.message}` };
      else seen[p.message.latentFormat] ??= {
        kind: p.kind, step: p.message.step, model: p.message.model, decodeMs: p.decodeMs,
        frames: p.images.map((f) => ({ width: f.width, height: f.height, rgba: Array.from(f.data) })),
      };
      if ((seen['Flux2'] && seen['Wan21'] && seen['error']) || performance.now() - t0 > 200_000) break;
    }
    client.close();
    return seen;
  }, [`/@fs${ROOT}/src/comfyui/index.ts`, server.port] as const);

  expect(r['error']?.error).toMatch(/^unparsed: MODEL_UNKNOWN: .*Mochi/);

  const image = r['Flux2'];
  expect(image).toMatchObject({ kind: 'image', step: 5, model: 'taef2' });
  const g = loadGolden('taef2_rand_8x8');
  const [f] = image!.frames!;
  expect([f!.width, f!.height]).toEqual([64, 64]);
  const level = maxLevelDiff(Uint8ClampedArray.from(f!.rgba), toRgb8(g.image.data as Float32Array, 64 * 64));

  const video = r['Wan21'];
  expect(video).toMatchObject({ kind: 'video', step: 6, model: 'taew2_1' });
  const v = loadVideoGolden(VIDEO);
  const [T, , H, W] = v.image.shape as [number, number, number, number];
  expect(video!.frames!.length).toBe(T);
  const per = 3 * H * W;
  const videoLevel = Math.max(...video!.frames!.map((fr, i) => {
    expect([fr.width, fr.height]).toEqual([W, H]);
    return maxLevelDiff(Uint8ClampedArray.from(fr.rgba), toRgb8((v.image.data as Float32Array).subarray(i * per, (i + 1) * per), H * W));
  }));
  console.log(`comfyui bridge -> Chromium: Flux2 step on webgpu f32 in ${image!.decodeMs!.toFixed(0)} ms, max level diff ${level}; ` +
    `Wan21 step (${T} frames ${W}x${H}) on wasm in ${video!.decodeMs!.toFixed(0)} ms, max level diff ${videoLevel}`);
  // The latents crossed as f16: within 2 levels of the f32 references.
  expect(level).toBeLessThanOrEqual(2);
  expect(videoLevel).toBeLessThanOrEqual(2);
});
