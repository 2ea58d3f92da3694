// Issue 23 in Chromium: a step latent published by the ComfyUI bridge's Python side (encode_latent,
// the aiohttp route) crosses a real websocket into the page, where taesd-web/comfyui decodes it
// against the golden (the latent was packed as ComfyUI's FLUX.2 sampler holds it, and sent as f16).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packFlux2 } from '../../src/model/latent.js';
import { makeStepMessage, startHubServer, type HubServer } from '../support/comfyServer.js';
import { loadGolden, maxLevelDiff, toRgb8 } from '../support/golden.js';
import { pythonMissing } from '../support/python.js';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, test } from './fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MISSING = HAS_SHARED ? pythonMissing() : NO_SHARED_REASON;
test.skip(MISSING !== null, MISSING ?? '');

let server: HubServer;
test.beforeAll(async () => {
  const g = loadGolden('taef2_rand_8x8');
  const dir = mkdtempSync(join(tmpdir(), 'taesd-comfy-spec-'));
  const flux2 = makeStepMessage(dir, 'flux2', packFlux2(g.latent.data as Float32Array, 8, 8), [1, 128, 4, 4], 'Flux2', 5, 20);
  // A video step too: its decoder (TAEHV) is not a model here yet, so it must come back as a typed error.
  const wan = makeStepMessage(dir, 'wan', new Float32Array(16 * 3 * 4 * 6), [1, 16, 3, 4, 6], 'Wan21', 6, 20);
  server = await startHubServer([flux2, wan]);
});
test.afterAll(() => server?.close());

test('a Flux2 step from the Python route decodes in the page to the golden; a video step is a typed error and the stream goes on', async ({ page }) => {
  await page.goto('/test.html');
  const r = await page.evaluate(async ([src, port]) => {
    const { ComfyPreviewClient } = (await import(/* @vite-ignore */ src)) as typeof import('../../src/comfyui/index.js');
    const client = new ComfyPreviewClient({
      url: `http://127.0.0.1:${port}`,
      promptId: 'test-prompt',
      weights: (model) => `/shared/models/${model}_decoder.safetensors`,
      decoder: { backend: 'webgpu', precision: 'f32' },
    });
    let videoError: string | undefined;
    let decoded: { width: number; height: number; rgba: number[]; shape: readonly number[]; meta: object; decodeMs: number } | undefined;
    for await (const p of client.previews()) {
      if (p.error) videoError ??= `${p.message?.latentFormat}: ${p.error.code}: ${p.error.message}`;
      else {
        const [image] = p.images;
        const { latent, metadata: _, ...meta } = p.message;
        decoded ??= { width: image!.width, height: image!.height, rgba: Array.from(image!.data), shape: latent.shape, meta, decodeMs: p.decodeMs };
      }
      if (videoError && decoded) break;
    }
    client.close();
    return decoded ? { ...decoded, videoError } : { error: `the socket closed before a step was decoded (${videoError})` };
  }, [`/@fs${ROOT}/src/comfyui/index.ts`, server.port] as const);
  expect(r.error).toBeUndefined();
  expect(r.videoError).toMatch(/^Wan21: MODEL_UNKNOWN: .*taew2_1/);
  const g = loadGolden('taef2_rand_8x8');
  expect([r.width, r.height]).toEqual([64, 64]);
  expect(r.shape).toEqual([1, 128, 4, 4]);
  expect(r.meta).toMatchObject({ latentFormat: 'Flux2', model: 'taef2', step: 5, totalSteps: 20, promptId: 'test-prompt', nodeId: '3', sigma: 0.5 });
  const level = maxLevelDiff(Uint8ClampedArray.from(r.rgba!), toRgb8(g.image.data as Float32Array, 64 * 64));
  console.log(`comfyui bridge -> Chromium: Flux2 step decoded on webgpu f32 in ${r.decodeMs!.toFixed(0)} ms, max level diff vs golden ${level}`);
  // The latent crossed as f16: within 2 levels of the f32 reference.
  expect(level).toBeLessThanOrEqual(2);
});
