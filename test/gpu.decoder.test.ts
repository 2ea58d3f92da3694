import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { lowerDecoder } from '../src/model/graph.js';
import { packFlux2, prepareLatent } from '../src/model/latent.js';
import { getModel, type ModelId } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { floatsToHalves } from '../src/weights/half.js';
import { loadGolden, maxLevelDiff, taef2Weights, toRgb8 } from './support/golden.js';
import { randomArray, randomStateDict } from './support/random.js';
import { maxAbsDiff, referenceDecode } from './support/reference.js';
import { read } from './support/gpu.js';
import { HAS_SHARED, TAEF2_PTH } from './support/shared.js';

// Awaited at import so skipIf can ask for features; one device serves the whole file.
const { device } = await requestGpuDevice();
const f16 = device.features.has('shader-f16');
afterAll(() => device?.destroy());

describe('every variant, random weights, against the CPU reference', () => {
  const cases: [ModelId, number, number][] = [['taesd', 4, 5], ['taesdxl', 3, 3], ['taesd3', 5, 3], ['taef1', 2, 4], ['taef2', 3, 4]];
  it.each(cases)('%s at %dx%d', async (id, h, w) => {
    const model = getModel(id);
    const weights = resolveDecoderWeights(randomStateDict(model, 7), { model: id });
    const shape = [model.latent.channels, h, w];
    const data = randomArray(shape[0]! * h * w, 3, 1.5);
    const decoder = new WebGpuDecoder(device, weights);
    const raw = await decoder.decodeRaw({ data, shape });
    const want = referenceDecode(lowerDecoder(weights), prepareLatent({ data, shape }, model));
    expect([raw.height, raw.width]).toEqual([8 * h, 8 * w]);
    expect(maxAbsDiff(raw.data, want.data)).toBeLessThan(1e-3);
    decoder.destroy();
  });
});

describe.skipIf(!HAS_SHARED)('taef2 decoder', () => {
  it('decodes .pth and .safetensors weights identically', async () => {
    const g = loadGolden('taef2_rand_5x7');
    const latent = { data: g.latent.data, shape: g.latent.shape };
    const fromPth = new WebGpuDecoder(device, resolveDecoderWeights(parseWeights(readFileSync(TAEF2_PTH), 'taef2_decoder.pth')));
    const fromSafetensors = new WebGpuDecoder(device, taef2Weights());
    expect((await fromPth.decodeRaw(latent)).data).toEqual((await fromSafetensors.decodeRaw(latent)).data);
    fromPth.destroy(); fromSafetensors.destroy();
  });

  it('takes a FLUX.2 sampler latent (128 channels, 2x2 packed) and f16 latent bits', async () => {
    const g = loadGolden('taef2_rand_8x8');
    const decoder = new WebGpuDecoder(device, taef2Weights());
    const unpacked = await decoder.decodeRaw({ data: g.latent.data, shape: [1, 32, 8, 8] });
    const packed = await decoder.decodeRaw({ data: packFlux2(g.latent.data, 8, 8), shape: [1, 128, 4, 4] });
    expect(packed.data).toEqual(unpacked.data);
    const halves = await decoder.decodeRaw({ data: floatsToHalves(g.latent.data), shape: [32, 8, 8] });
    expect(maxAbsDiff(halves.data, g.image.data)).toBeLessThan(2e-2);
    decoder.destroy();
  });

  it.skipIf(!f16)('f16 storage stays within the documented tolerance (needs shader-f16)', async () => {
    for (const name of ['taef2_rand_8x8', 'taef2_rand_5x7']) {
      const g = loadGolden(name);
      const decoder = new WebGpuDecoder(device, taef2Weights(), { precision: 'f16' });
      const raw = await decoder.decodeRaw({ data: g.latent.data, shape: g.latent.shape });
      const rgba = await decoder.decode({ data: g.latent.data, shape: g.latent.shape });
      const err = maxAbsDiff(raw.data, g.image.data);
      const levels = maxLevelDiff(rgba.data, toRgb8(g.image.data, raw.width * raw.height));
      console.log(`${name} f16: max abs ${err.toExponential(2)}, max level ${levels}`);
      // measured on lavapipe: 1.8e-3 and 1 level; f16 storage keeps ~11 bits per activation
      expect(err).toBeLessThan(5e-3);
      expect(levels).toBeLessThanOrEqual(2);
      decoder.destroy();
    }
  });
});

describe('banded decode', () => {
  it('equals the unbanded decode exactly when a small buffer limit forces several bands', async () => {
    const model = getModel('taef2');
    const weights = resolveDecoderWeights(randomStateDict(model, 9));
    const latent = { data: randomArray(32 * 14 * 9, 5, 1.5), shape: [32, 14, 9] };
    const whole = new WebGpuDecoder(device, weights);
    const banded = new WebGpuDecoder(device, weights, { maxBufferBytes: 64 * 4 * 72 * 40 });
    const a = await whole.decodeRaw(latent);
    const b = await banded.decodeRaw(latent);
    expect(whole.lastBandCount).toBe(1);
    expect(banded.lastBandCount).toBeGreaterThanOrEqual(3);
    expect(b.data).toEqual(a.data);
    whole.destroy(); banded.destroy();
  });
});

describe.skipIf(!HAS_SHARED)('GPU resources', () => {
  it('a second decode of the same size allocates no buffers (readback and texture paths)', async () => {
    const g = loadGolden('taef2_rand_5x7');
    const decoder = new WebGpuDecoder(device, taef2Weights());
    const latent = { data: g.latent.data, shape: g.latent.shape };
    const texture = device.createTexture({ size: [56, 40], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING });
    await decoder.decode(latent);
    await decoder.decodeToTexture(latent, texture);
    const create = device.createBuffer.bind(device);
    let created = 0;
    device.createBuffer = (d) => { created++; return create(d); };
    try {
      await decoder.decode(latent);
      await decoder.decodeToTexture(latent, texture);
    } finally {
      device.createBuffer = create;
    }
    expect(created).toBe(0);
    decoder.destroy();
  });

  it('decodes into a texture with the same pixels as decode()', async () => {
    const g = loadGolden('taef2_rand_5x7');
    const decoder = new WebGpuDecoder(device, taef2Weights());
    const latent = { data: g.latent.data, shape: g.latent.shape };
    const texture = device.createTexture({ size: [56, 40], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC });
    await decoder.decodeToTexture(latent, texture);
    const out = device.createBuffer({ size: 256 * 40, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyTextureToBuffer({ texture }, { buffer: out, bytesPerRow: 256 }, [56, 40]);
    device.queue.submit([encoder.finish()]);
    const rows = new Uint8Array(await read(device, out, 256 * 40));
    const rgba = await decoder.decode(latent);
    for (let y = 0; y < 40; y++) expect(rows.subarray(y * 256, y * 256 + 56 * 4)).toEqual(new Uint8Array(rgba.data.buffer, y * 56 * 4, 56 * 4));
    decoder.destroy();
  });
});

describe.skipIf(!HAS_SHARED)('bad input', () => {
  const decoder = () => new WebGpuDecoder(device, taef2Weights());
  const cases: [string, { data: Float32Array; shape: number[] }, string][] = [
    ['wrong channel count', { data: new Float32Array(16 * 4 * 4), shape: [16, 4, 4] }, 'LATENT_CHANNELS'],
    ['wrong rank', { data: new Float32Array(32 * 16), shape: [32, 16] }, 'LATENT_SHAPE'],
    ['batch of two', { data: new Float32Array(2 * 32 * 4 * 4), shape: [2, 32, 4, 4] }, 'LATENT_SHAPE'],
    ['data shorter than shape', { data: new Float32Array(10), shape: [32, 4, 4] }, 'LATENT_SHAPE'],
    ['NaN values', { data: new Float32Array(32 * 4 * 4).fill(NaN, 7, 9), shape: [32, 4, 4] }, 'LATENT_NON_FINITE'],
    ['Infinity', { data: new Float32Array(32 * 4 * 4).fill(Infinity, 0, 1), shape: [32, 4, 4] }, 'LATENT_NON_FINITE'],
  ];
  it.each(cases)('%s', async (_name, latent, code) => {
    const d = decoder();
    await expect(d.decode(latent)).rejects.toMatchObject({ name: 'TaesdError', code });
    // and the decoder still works afterwards
    expect((await d.decode({ data: new Float32Array(32 * 2 * 2), shape: [32, 2, 2] })).width).toBe(16);
    d.destroy();
  });

  it('rejects a maxBufferBytes that is not a sane size', () => {
    expect(() => new WebGpuDecoder(device, taef2Weights(), { maxBufferBytes: Number.NaN })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => new WebGpuDecoder(device, taef2Weights(), { maxBufferBytes: 100 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });

  it('fails at once, naming the output buffer, when the image itself exceeds the buffer limit', async () => {
    const d = new WebGpuDecoder(device, taef2Weights(), { maxBufferBytes: 1 << 16 });
    await expect(d.decode({ data: new Float32Array(32 * 8 * 8), shape: [32, 8, 8] })).rejects.toThrow(expect.objectContaining({ code: 'LATENT_SHAPE', reason: 'DEVICE_LIMIT', message: expect.stringContaining('64x64') }));
    d.destroy();
  });

  it('rejects use after destroy', async () => {
    const d = decoder();
    d.destroy();
    await expect(d.decode({ data: new Float32Array(32 * 4), shape: [32, 2, 2] })).rejects.toMatchObject({ code: 'DESTROYED' });
  });
});
