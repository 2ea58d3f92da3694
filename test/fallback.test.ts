// The onnxruntime-web backend: its ONNX graph against the CPU reference, the real taef2 weights
// against the goldens, and the LatentDecoder contract.
import { beforeAll, describe, expect, it } from 'vitest';
import { ProtoWriter } from '../src/fallback/protobuf.js';
import { rawToRgba } from '../src/model/rgba.js';
import { createWasmDecoder, type WasmDecoder } from '../src/fallback/wasm.js';
import { packFlux2 } from '../src/model/latent.js';
import { MODELS, type ModelId } from '../src/model/registry.js';
import { lowerDecoder } from '../src/model/graph.js';
import { resolveDecoderWeights, type DecoderWeights } from '../src/model/weights.js';
import { readGolden, taef2Weights } from './support/fallbackFixtures.js';
import { randomArray, randomStateDict } from './support/random.js';
import { maxAbsDiff, referenceDecode } from './support/reference.js';
import { HAS_SHARED } from './support/shared.js';

// ort fixes its thread count at the first session of a process; this file runs on 2
// (fallback.threads.test.ts on 1). Every decoder here asks for it, so order does not matter.
const THREADS = 2;
const TOLERANCE = 2e-3;

const randomWeights = (id: ModelId): DecoderWeights => resolveDecoderWeights(randomStateDict(MODELS[id], 1), { model: id });

describe('ProtoWriter', () => {
  it('writes the wire format of protobuf.dev/programming-guides/encoding', () => {
    const bytes = (w: ProtoWriter) => [...w.finish()];
    expect(bytes(new ProtoWriter().int(1, 150))).toEqual([0x08, 0x96, 0x01]);
    expect(bytes(new ProtoWriter().int(1, -1))).toEqual([0x08, ...Array(9).fill(0xff), 0x01]);
    expect(bytes(new ProtoWriter().int(20, 2 ** 40))).toEqual([0xa0, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
    expect(bytes(new ProtoWriter().float(2, 1))).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(bytes(new ProtoWriter().string(2, 'testing'))).toEqual([0x12, 0x07, ...new TextEncoder().encode('testing')]);
    expect(bytes(new ProtoWriter().message(3, new ProtoWriter().int(1, 150)))).toEqual([0x1a, 0x03, 0x08, 0x96, 0x01]);
  });
});

describe('ONNX graph vs the CPU reference, random weights', () => {
  // Small, odd sizes: the reference takes ~0.2 s per latent pixel here.
  it.each([
    ['taesd', 3, 5],
    ['taesd3', 4, 3],
    ['taef2', 5, 3],
  ] as const)('%s at %ix%i', async (id, h, w) => {
    const weights = randomWeights(id);
    const c = weights.model.latent.channels;
    const data = randomArray(c * h * w, 7, 1.5);
    const decoder = await createWasmDecoder(weights, { numThreads: THREADS });
    expect(decoder.numThreads).toBe(THREADS);
    const raw = await decoder.decodeRaw({ data, shape: [c, h, w] });
    decoder.destroy();
    const ref = referenceDecode(lowerDecoder(weights), { batch: 1, channels: c, height: h, width: w, data });
    expect([raw.width, raw.height]).toEqual([8 * w, 8 * h]);
    expect(maxAbsDiff(raw.data, ref.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it("maps 'vae' latents with the model's scale and shift, per decoder and per call", async () => {
    const weights = randomWeights('taesd3');
    const { scaleFactor, shiftFactor } = weights.model.latent;
    const data = randomArray(16 * 2 * 3, 8);
    const shape = [16, 2, 3];
    const mapped = { data: data.map((v) => (v - shiftFactor) * scaleFactor), shape };
    const model = await createWasmDecoder(weights, { numThreads: THREADS });
    const vae = await createWasmDecoder(weights, { numThreads: THREADS, latentSpace: 'vae' });
    const expected = (await model.decodeRaw(mapped)).data;
    expect((await vae.decodeRaw({ data, shape })).data).toEqual(expected);
    expect((await model.decodeRaw({ data, shape }, { latentSpace: 'vae' })).data).toEqual(expected);
    model.destroy();
    vae.destroy();
  });
});

describe.skipIf(!HAS_SHARED)('taef2 with the real weights', () => {
  let weights: DecoderWeights;
  let decoder: WasmDecoder;
  beforeAll(async () => {
    weights = await taef2Weights();
    decoder = await createWasmDecoder(weights, { numThreads: THREADS });
  });

  it.each(['taef2_rand_8x8', 'taef2_rand_5x7'])('matches the golden %s', async (name) => {
    const golden = readGolden(name);
    const raw = await decoder.decodeRaw(golden.latent);
    expect([raw.width, raw.height]).toEqual([golden.image.width, golden.image.height]);
    const rawError = maxAbsDiff(raw.data, golden.image.data);
    const levels = maxAbsDiff((await decoder.decode(golden.latent)).data, rawToRgba(golden.image).data);
    console.log(`wasm ${name}: max abs ${rawError.toExponential(2)} raw, ${levels} level(s) 8-bit`);
    expect(rawError).toBeLessThanOrEqual(TOLERANCE);
    expect(levels).toBeLessThanOrEqual(1);
  });

  it("decodes FLUX.2's packed 128-channel latent identically", async () => {
    const golden = readGolden('taef2_rand_8x8');
    const unpacked = await decoder.decodeRaw(golden.latent);
    const packed = packFlux2(golden.latent.data, 8, 8);
    expect((await decoder.decodeRaw({ data: packed, shape: [128, 4, 4] })).data).toEqual(unpacked.data);
    expect((await decoder.decodeRaw({ data: packed, shape: [1, 128, 4, 4] })).data).toEqual(unpacked.data);
  });

  it('runs overlapping decodes one at a time, each with its own result', async () => {
    const a = readGolden('taef2_rand_8x8');
    const b = readGolden('taef2_rand_5x7');
    const [ra, rb] = await Promise.all([decoder.decodeRaw(a.latent), decoder.decodeRaw(b.latent)]);
    expect(maxAbsDiff(ra.data, a.image.data)).toBeLessThanOrEqual(TOLERANCE);
    expect(maxAbsDiff(rb.data, b.image.data)).toBeLessThanOrEqual(TOLERANCE);
  });

  it('reports misuse with TaesdError codes', async () => {
    await expect(createWasmDecoder(weights, { numThreads: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(createWasmDecoder(weights, { numThreads: 1.5 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(createWasmDecoder(weights, { executionProvider: 'webgpu' })).rejects.toMatchObject({ code: 'NO_WEBGPU' });
    await expect(decoder.decodeRaw({ data: new Float32Array(16 * 4), shape: [16, 2, 2] })).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
    const gone = await createWasmDecoder(weights, { numThreads: THREADS });
    gone.destroy();
    gone.destroy();
    await expect(gone.decode({ data: new Float32Array(32), shape: [32, 1, 1] })).rejects.toMatchObject({ code: 'DESTROYED' });
  });
});
