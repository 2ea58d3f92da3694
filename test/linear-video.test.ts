// The linear video preview (src/linearVideo.ts): ComfyUI's video latent formats applied per latent
// frame, on the CPU and in WGSL (Dawn on lavapipe), and the formats' VAE-space mappings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTaesdError } from '../src/errors.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { createLinearVideoDecoder } from '../src/linearVideo.js';
import { VIDEO_FAMILIES, VIDEO_MODEL_FAMILY, videoVaeToModel } from '../src/model/videoFamilies.js';
import { VIDEO_MODELS, type VideoModelId } from '../src/model/videoRegistry.js';
import { randomArray } from './support/random.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { loadVideoGolden } from './support/videoGolden.js';

/** ComfyUI's Latent2RGBPreviewer on latent frame `t` of `[C,T,h,w]`, by hand, to 8 bits. */
function byHand(data: Float32Array, [C, T, h, w]: number[], t: number, model: VideoModelId): Uint8Array {
  const family = VIDEO_FAMILIES[VIDEO_MODEL_FAMILY[model]!];
  const out = new Uint8Array(w * h * 4);
  for (let p = 0; p < w * h; p++) {
    for (let k = 0; k < 3; k++) {
      let v = family.rgbBias[k]!;
      for (let c = 0; c < C!; c++) v += data[(c * T! + t) * h! * w! + p]! * family.rgbFactors![c]![k]!;
      out[4 * p + k] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('video latent formats (ComfyUI latent_formats.py @9a9a69fd)', () => {
  it('have the published sizes and spot-checked rows', () => {
    const f = VIDEO_FAMILIES;
    expect([f.Wan21, f.Wan22, f.HunyuanVideo, f.HunyuanVideo15, f.LTXV, f.MiniMaxH3Video].map((x) => x.rgbFactors!.length)).toEqual([16, 48, 16, 32, 128, 24]);
    expect(f.Wan21.rgbFactors![0]).toEqual([-0.1299, -0.1692, 0.2932]);
    expect(f.Wan22.rgbBias).toEqual([0.0317, -0.0878, -0.1388]);
    expect(f.LTXV.rgbFactors![127]).toEqual([-1.4605e-2, -6.7032e-3, 3.9675e-3]);
    expect(f.HunyuanVideo15.rgbFactors![31]).toEqual([0.0005, -0.0106, 0.0242]);
    expect(f.MiniMaxH3Video.rgbFactors![9]).toEqual([0.531539, 0.548819, 0.624404]);
    expect(f.Wan22.latentsStd![47]).toBe(0.7744);
    expect(f.CogVideoX.rgbFactors).toBeNull();
    for (const [id, fam] of Object.entries(VIDEO_MODEL_FAMILY)) if (fam) expect(VIDEO_FAMILIES[fam].channels).toBe(VIDEO_MODELS[id as VideoModelId].latentChannels);
  });

  it('map VAE latents to model space as process_in: Wan per channel, HunyuanVideo by scale', () => {
    const x = randomArray(16 * 2 * 3 * 4, 3, 2);
    const wan = videoVaeToModel({ data: x, shape: [1, 16, 2, 3, 4] }, VIDEO_FAMILIES.Wan21).data as Float32Array;
    const { latentsMean: m, latentsStd: s } = VIDEO_FAMILIES.Wan21;
    for (const i of [0, 24, 24 * 7 + 5, 24 * 15 + 23]) expect(wan[i]).toBeCloseTo((x[i]! - m![Math.floor(i / 24)]!) / s![Math.floor(i / 24)]!, 5);
    const hv = videoVaeToModel({ data: x, shape: [16, 2, 3, 4] }, VIDEO_FAMILIES.HunyuanVideo).data as Float32Array;
    expect(hv[100]).toBeCloseTo(x[100]! * 0.476986, 6);
    expect(() => videoVaeToModel({ data: x, shape: [2, 16, 1, 3, 4] }, VIDEO_FAMILIES.Wan21)).toThrow(expect.objectContaining({ code: 'LATENT_SHAPE' }));
    expect(() => videoVaeToModel({ data: x, shape: [1, 48, 1, 2, 3] }, VIDEO_FAMILIES.Wan22)).toThrow(expect.objectContaining({ code: 'LATENT_SHAPE' }));
    expect(() => videoVaeToModel({ data: x, shape: [16, 2, 3, 4] }, VIDEO_FAMILIES.Wan22)).toThrow(expect.objectContaining({ code: 'LATENT_CHANNELS' }));
  });
});

describe('linear video preview (CPU)', () => {
  it.each(['taew2_1', 'taew2_2', 'taehv', 'taehv1_5', 'taeltx_2', 'taeh3'] as VideoModelId[])('%s: every latent frame equals ComfyUI by hand', async (id) => {
    const shape = [VIDEO_MODELS[id].latentChannels, 3, 5, 7];
    const data = randomArray(shape.reduce((a, b) => a * b), 7, 1.5);
    const decoder = createLinearVideoDecoder({ model: id });
    const frames = await decoder.decodeVideo({ data, shape: [1, ...shape] });
    expect(frames.length).toBe(3);
    frames.forEach((f, t) => {
      expect([f.width, f.height]).toEqual([7, 5]);
      expect(maxDiff(f.data, byHand(data, shape, t, id))).toBeLessThanOrEqual(1);
    });
  });

  it("'vae' latents are mapped first; upscale enlarges by nearest neighbour", async () => {
    const shape = [16, 2, 3, 4];
    const vae = randomArray(16 * 24, 9, 2);
    const model = videoVaeToModel({ data: vae, shape }, VIDEO_FAMILIES.Wan21).data as Float32Array;
    const decoder = createLinearVideoDecoder({ model: 'taew2_1', upscale: 2 });
    const [a] = await decoder.decodeVideo({ data: vae, shape }, { latentSpace: 'vae' });
    const [b] = await decoder.decodeVideo({ data: model, shape });
    expect([a!.width, a!.height]).toEqual([8, 6]);
    expect(maxDiff(a!.data, b!.data)).toBe(0);
    expect(Array.from(a!.data.subarray(0, 4))).toEqual(Array.from(a!.data.subarray(4, 8)));
  });

  it('refuses models without factors and latents of the wrong width, typed', async () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { return isTaesdError(e) ? e.code : String(e); } return null; };
    expect(code(() => createLinearVideoDecoder({ model: 'taecvx' }))).toBe('BAD_OPTION');
    expect(code(() => createLinearVideoDecoder({ model: 'taeos1_3' }))).toBe('BAD_OPTION');
    await expect(createLinearVideoDecoder({ model: 'taew2_2' }).decodeVideo({ data: new Float32Array(16 * 2 * 9), shape: [1, 16, 2, 3, 3] })).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
  });

  it.skipIf(!HAS_SHARED)('a golden Wan 2.1 latent gives one frame per latent frame at latent size', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const [, C, T, h, w] = g.latent.shape as number[];
    const frames = await createLinearVideoDecoder({ model: 'taew2_1' }).decodeVideo({ data: g.latent.data as Float32Array, shape: g.latent.shape });
    expect(frames.length).toBe(T);
    expect([frames[0]!.width, frames[0]!.height]).toEqual([w, h]);
    expect(maxDiff(frames[T! - 1]!.data, byHand(g.latent.data as Float32Array, [C!, T!, h!, w!], T! - 1, 'taew2_1'))).toBeLessThanOrEqual(1);
  });
  if (!HAS_SHARED) it.skip(NO_SHARED_REASON, () => undefined);
});

describe('linear video preview (WGSL)', () => {
  let device: GPUDevice;
  beforeAll(async () => { ({ device } = await requestGpuDevice()); });
  afterAll(() => device?.destroy());

  it.each([['taew2_1', 1], ['taew2_2', 2], ['taeltx_2', 1], ['taeh3', 4]] as [VideoModelId, 1 | 2 | 4][])('%s, upscale %i: every frame matches the CPU within 1 level', async (id, upscale) => {
    const shape = [1, VIDEO_MODELS[id].latentChannels, 4, 6, 9];
    const data = randomArray(shape.reduce((a, b) => a * b), 11, 1.5);
    const gpu = createLinearVideoDecoder({ model: id, upscale, device });
    const cpu = createLinearVideoDecoder({ model: id, upscale });
    const [a, b] = [await gpu.decodeVideo({ data, shape }), await cpu.decodeVideo({ data, shape })];
    expect(a.length).toBe(4);
    a.forEach((f, t) => {
      expect([f.width, f.height]).toEqual([9 * upscale, 6 * upscale]);
      expect(maxDiff(f.data, b[t]!.data)).toBeLessThanOrEqual(1);
    });
    gpu.destroy();
  });
});
