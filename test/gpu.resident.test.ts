// Latents already on the GPU (what an in-browser sampler holds): read from the caller's buffer
// with no CPU copy, f32 or f16, FLUX.2-packed, batched; drawn to a caller's buffer; and the
// caller's device and error scopes left as they were.
import { afterAll, describe, expect, it } from 'vitest';
import { createDecoder } from '../src/decoder.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { packFlux2 } from '../src/model/latent.js';
import { MODELS } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { floatsToHalves } from '../src/weights/half.js';
import { buffer, read } from './support/gpu.js';
import { taef2Weights } from './support/golden.js';
import { randomArray, randomStateDict } from './support/random.js';
import { TAEF2_PTH } from './support/shared.js';

const { device } = await requestGpuDevice();
afterAll(() => device.destroy());

/** A latent in a STORAGE-only buffer: nothing of this path could map it for reading. */
const gpuBuffer = (data: Float32Array | Uint16Array) => buffer(device, data, GPUBufferUsage.STORAGE);

// Random latents (decoded both ways, so no golden is needed): one 32x5x7, a batch of two, one 32x8x8.
const g = { latent: { data: randomArray(32 * 5 * 7, 11), shape: [32, 5, 7] } };
const b = { latent: { data: randomArray(2 * 32 * 5 * 7, 12), shape: [2, 32, 5, 7] } };

describe('latents in a GPUBuffer', () => {
  const decoder = new WebGpuDecoder(device, taef2Weights());
  afterAll(() => decoder.destroy());

  it('f32 decodes bit-identically to the same values from the CPU', async () => {
    const cpu = await decoder.decodeRaw({ data: g.latent.data, shape: g.latent.shape });
    const gpu = await decoder.decodeRaw({ buffer: gpuBuffer(g.latent.data), shape: g.latent.shape, dtype: 'float32' });
    expect(gpu.data).toEqual(cpu.data);
  });

  it('f16 bits decode as the CPU decodes the same bits', async () => {
    const halves = floatsToHalves(g.latent.data);
    const cpu = await decoder.decodeRaw({ data: halves, shape: g.latent.shape });
    const gpu = await decoder.decodeRaw({ buffer: gpuBuffer(halves), shape: g.latent.shape, dtype: 'float16' });
    expect(gpu.data).toEqual(cpu.data);
  });

  it("reads FLUX.2's packed 128-channel layout in place, f32 and f16", async () => {
    const k = { latent: { data: randomArray(32 * 8 * 8, 13) } };
    const packed = packFlux2(k.latent.data, 8, 8);
    const want = (await decoder.decodeRaw({ data: k.latent.data, shape: [32, 8, 8] })).data;
    expect((await decoder.decodeRaw({ buffer: gpuBuffer(packed), shape: [1, 128, 4, 4], dtype: 'float32' })).data).toEqual(want);
    const halves = floatsToHalves(packed);
    const fromCpu = await decoder.decodeRaw({ data: halves, shape: [128, 4, 4] });
    expect((await decoder.decodeRaw({ buffer: gpuBuffer(halves), shape: [128, 4, 4], dtype: 'float16' })).data).toEqual(fromCpu.data);
  });

  it('decodes a batch in one go', async () => {
    const shape = b.latent.shape;
    const cpu = await decoder.decodeRawBatch({ data: b.latent.data, shape });
    const gpu = await decoder.decodeRawBatch({ buffer: gpuBuffer(b.latent.data), shape, dtype: 'float32' });
    expect(gpu.map((r) => r.data)).toEqual(cpu.map((r) => r.data));
  });

  it("maps VAE-space values with the family's scale and shift on the GPU (SD3)", async () => {
    const sd3 = new WebGpuDecoder(device, resolveDecoderWeights(randomStateDict(MODELS.taesd3, 5), { model: 'taesd3' }));
    const data = randomArray(2 * 16 * 3 * 4, 6, 1.5), shape = [2, 16, 3, 4];
    const cpu = await sd3.decodeRawBatch({ data, shape }, { latentSpace: 'vae' });
    const gpu = await sd3.decodeRawBatch({ buffer: gpuBuffer(data), shape, dtype: 'float32' }, { latentSpace: 'vae' });
    // Both map (x - shift) * scale in the input kernel: the same floats either way.
    gpu.forEach((r, i) => expect(r.data).toEqual(cpu[i]!.data));
    sd3.destroy();
  });

  it('draws into a buffer the caller owns: the same bytes as decode()', async () => {
    const out = device.createBuffer({ size: 2 * 56 * 40 * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    const size = await decoder.decodeToBuffer({ buffer: gpuBuffer(b.latent.data), shape: b.latent.shape, dtype: 'float32' }, out);
    expect(size).toEqual({ width: 56, height: 40, batch: 2 });
    const bytes = new Uint8Array(await read(device, out, 2 * 56 * 40 * 4));
    const images = await decoder.decodeBatch({ data: b.latent.data, shape: b.latent.shape });
    expect(bytes.subarray(56 * 40 * 4)).toEqual(new Uint8Array(images[1]!.data.buffer, images[1]!.data.byteOffset, 56 * 40 * 4));
  });

  it('refuses, typed, buffers that cannot hold the latent or lack STORAGE usage', async () => {
    await expect(decoder.decode({ buffer: gpuBuffer(new Float32Array(16)), shape: [32, 5, 7], dtype: 'float32' })).rejects.toMatchObject({ code: 'LATENT_SHAPE' });
    const noStorage = device.createBuffer({ size: 32 * 35 * 4, usage: GPUBufferUsage.COPY_DST });
    await expect(decoder.decode({ buffer: noStorage, shape: [32, 5, 7], dtype: 'float32' })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(decoder.decode({ buffer: gpuBuffer(g.latent.data), shape: [16, 5, 7], dtype: 'float32' })).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
    await expect(decoder.decode({ buffer: gpuBuffer(g.latent.data), shape: [32, 5, 7], dtype: 'int8' as never })).rejects.toMatchObject({ code: 'LATENT_SHAPE' });
  });
});

describe("the caller's device", () => {
  it("keeps the caller's error scopes to the caller's calls while a decode is in flight", async () => {
    const decoder = await createDecoder({ weights: TAEF2_PTH, backend: 'webgpu', device, precision: 'f32' });
    const decoding = decoder.decode({ buffer: gpuBuffer(g.latent.data), shape: g.latent.shape, dtype: 'float32' });
    // The caller's own mistake, in its own scope, while ours awaits its pipelines and readback.
    await new Promise((r) => setTimeout(r, 0));
    device.pushErrorScope('validation');
    device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    const theirs = await device.popErrorScope();
    expect(theirs).toBeInstanceOf(GPUValidationError);
    expect((await decoding).width).toBe(56);
    decoder.destroy();
  });

  it('still works after the decoder that used it is destroyed', async () => {
    const decoder = await createDecoder({ weights: TAEF2_PTH, backend: 'webgpu', device });
    await decoder.decode({ buffer: gpuBuffer(g.latent.data), shape: g.latent.shape, dtype: 'float32' });
    decoder.destroy();
    const data = Float32Array.of(1, 2, 3, 4);
    expect(new Float32Array(await read(device, buffer(device, data), 16))).toEqual(data);
  });

  it('is refused, typed, by backends that read latents from the CPU', async () => {
    const wasm = await createDecoder({ weights: TAEF2_PTH, backend: 'wasm' });
    await expect(wasm.decode({ buffer: gpuBuffer(g.latent.data), shape: g.latent.shape, dtype: 'float32' })).rejects.toThrow(expect.objectContaining({ code: 'BAD_OPTION', reason: 'UNSUPPORTED', message: expect.stringContaining('wasm') }));
    wasm.destroy();
  });
});
