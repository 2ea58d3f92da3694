// The linear preview against ComfyUI's factors applied by hand, read from ../shared's copy of
// latent_formats.json (so the registry's numbers are checked too).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLinearDecoder, latent2rgb, latent2rgbRaw } from '../src/fallback/linear.js';
import { packFlux2, prepareLatent, type Latent } from '../src/model/latent.js';
import { MODEL_IDS, MODELS } from '../src/model/registry.js';
import { randomArray } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, sharedPath } from './support/shared.js';

interface Format {
  latent_rgb_factors: number[][];
  latent_rgb_factors_bias: number[] | null;
}
const formats = (HAS_SHARED ? JSON.parse(readFileSync(sharedPath('latent_formats.json'), 'utf8')) : {}) as Record<string, Format>;

/** ComfyUI's Latent2RGBPreviewer, pixel by pixel: ((x . F + b) + 1) / 2, clamped, to 8 bits. */
function byHand(latent: Latent, format: Format): Uint8Array {
  const { channels, height, width, data } = latent;
  const out = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    for (let k = 0; k < 3; k++) {
      let v = format.latent_rgb_factors_bias?.[k] ?? 0;
      for (let c = 0; c < channels; c++) v += data[c * width * height + p]! * format.latent_rgb_factors[c]![k]!;
      out[4 * p + k] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
    out[4 * p + 3] = 255;
  }
  return out;
}

const randomLatent = (channels: number, height: number, width: number, seed: number): Latent =>
  ({ batch: 1, channels, height, width, data: randomArray(channels * height * width, seed, 1.5) });

describe('latent2rgb', () => {
  const linearIds = MODEL_IDS.filter((id) => MODELS[id].latent.rgbFactors);
  it.skipIf(!HAS_SHARED).each(linearIds.map((id) => [MODELS[id].latent.id, id] as const))('%s (%s) matches the factors applied by hand', (family, id) => {
    const model = MODELS[id];
    const format = formats[family]!;
    const factors = model.latent.rgbFactors!;
    expect(factors.length).toBe(model.latent.channels);
    const latent = randomLatent(model.latent.channels, 5, 7, 11);
    const image = latent2rgb(latent, model);
    expect([image.width, image.height]).toEqual([7, 5]);
    // Within 1 level: the registry and the JSON agree to float precision, rounding may not.
    expect(maxAbsDiff(image.data, byHand(latent, format))).toBeLessThanOrEqual(1);
    expect(maxAbsDiff(factors.flat(), format.latent_rgb_factors.flat())).toBe(0);
  });

  it('refuses, typed, a family with no published factors (Sana)', () => {
    expect(MODELS.taesana.latent.rgbFactors).toBeNull();
    expect(() => createLinearDecoder(MODELS.taesana)).toThrow(expect.objectContaining({ code: 'BAD_OPTION', reason: 'UNSUPPORTED', message: expect.stringContaining('taesana') }));
  });

  it('gives (factor row + bias + 1) / 2 for a one-hot pixel', () => {
    const model = MODELS.taesdxl;
    const raw = latent2rgbRaw({ batch: 1, channels: 4, height: 1, width: 1, data: Float32Array.of(0, 0, 1, 0) }, model);
    const expected = model.latent.rgbFactors![2]!.map((f, k) => (f + model.latent.rgbBias[k]! + 1) / 2);
    expect(maxAbsDiff(raw.data, expected)).toBeLessThan(1e-7);
  });

  it('clamps to [0, 1]', () => {
    const raw = latent2rgbRaw({ batch: 1, channels: 4, height: 1, width: 2, data: Float32Array.of(100, -100, 100, -100, 0, 0, 0, 0) }, MODELS.taesd);
    for (const v of raw.data) expect(v === 0 || v === 1).toBe(true);
  });
});

describe('createLinearDecoder', () => {
  it("unpacks FLUX.2's 128-channel latent first", async () => {
    const latent = randomLatent(32, 6, 8, 13);
    const decoder = createLinearDecoder(MODELS.taef2);
    const packed = await decoder.decodeRaw({ data: packFlux2(latent.data, 6, 8), shape: [1, 128, 3, 4] });
    expect(packed).toEqual(latent2rgbRaw(latent, MODELS.taef2));
    expect(await decoder.decode({ data: latent.data, shape: [32, 6, 8] })).toEqual(latent2rgb(latent, MODELS.taef2));
  });

  it.each([1, 2, 4, 8] as const)('upscales x%i by nearest neighbour', async (upscale) => {
    const latent = randomLatent(16, 3, 5, 14);
    const small = latent2rgb(latent, MODELS.taesd3);
    const image = await createLinearDecoder(MODELS.taesd3, { upscale }).decode({ data: latent.data, shape: [16, 3, 5] });
    expect([image.width, image.height]).toEqual([5 * upscale, 3 * upscale]);
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const at = 4 * (y * image.width + x);
        const from = 4 * (Math.floor(y / upscale) * 5 + Math.floor(x / upscale));
        expect(image.data.subarray(at, at + 4)).toEqual(small.data.subarray(from, from + 4));
      }
    }
  });

  it("maps 'vae' latents with the model's scale and shift", async () => {
    const model = MODELS.taef1;
    const data = randomArray(16 * 2 * 2, 15);
    const input = { data, shape: [16, 2, 2] };
    const expected = latent2rgbRaw(prepareLatent(input, model, 'vae'), model);
    expect(await createLinearDecoder(model, { latentSpace: 'vae' }).decodeRaw(input)).toEqual(expected);
    expect(await createLinearDecoder(model).decodeRaw(input, { latentSpace: 'vae' })).toEqual(expected);
  });

  it('reports misuse with TaesdError codes', async () => {
    expect(() => createLinearDecoder(MODELS.taesd, { upscale: 3 as 2 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    const decoder = createLinearDecoder(MODELS.taesd);
    await expect(decoder.decode({ data: new Float32Array(16), shape: [16, 1, 1] })).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
    await expect(decoder.decode({ data: Float32Array.of(0, NaN, 0, 0), shape: [4, 1, 1] })).rejects.toMatchObject({ code: 'LATENT_NON_FINITE' });
    expect(() => latent2rgb(randomLatent(16, 1, 1, 1), MODELS.taesd)).toThrow(expect.objectContaining({ code: 'LATENT_CHANNELS' }));
    decoder.destroy();
    await expect(decoder.decodeRaw({ data: new Float32Array(4), shape: [4, 1, 1] })).rejects.toMatchObject({ code: 'DESTROYED' });
  });
});
