// Kernel choice by measurement (issue 9): the tuner times every variant that accepts a layer shape
// and keeps the fastest per adapter in the store; a decoder uses what the store says, or a forced kernel.
import { afterAll, describe, expect, it } from 'vitest';
import { convShapeKey, CONV_VARIANTS, type ConvShape } from '../src/gpu/conv.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { GpuSubmitter } from '../src/gpu/submit.js';
import { memoryStore, tuneConv, type TuningStore } from '../src/gpu/tune.js';
import { MODELS } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { randomArray, randomStateDict } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';

const { device } = await requestGpuDevice();
const gpu = new GpuSubmitter(device);
afterAll(() => device.destroy());

/** A store that keeps its entries visible and counts writes. */
function countingStore(): TuningStore & { entries: Map<string, string>; writes: number } {
  const entries = new Map<string, string>();
  const store = { entries, writes: 0, getItem: (k: string) => entries.get(k) ?? null, setItem: (k: string, v: string) => { store.writes++; entries.set(k, v); } };
  return store;
}

const shape: ConvShape = { k: 3, cinBlocks: 4, coutBlocks: 4, upsample: false, relu: true, residual: false, normGroups: 0, precision: 'f32', outputF32: false, zeroVec4s: 4, prevConcat: false };

describe('conv tuning', () => {
  it('times every variant that accepts the shape, keeps the fastest, and answers from the store next time', async () => {
    const store = countingStore();
    const choice = await tuneConv(gpu, shape, 16, 8, store);
    const accepted = CONV_VARIANTS.filter((v) => v.refuses(shape) === null).map((v) => v.id);
    expect(Object.keys(choice.timings).sort()).toEqual(accepted.sort());
    const fastest = Object.entries(choice.timings).sort((a, b) => a[1] - b[1])[0]![0];
    expect(choice.variant).toBe(fastest);
    // One entry, holding the choice; asked again, the tuner answers from it and times nothing (no new write).
    expect([...store.entries.values()].map((v) => JSON.parse(v) as unknown)).toEqual([choice]);
    expect(await tuneConv(gpu, shape, 16, 8, store)).toEqual(choice);
    expect(store.writes).toBe(1);
    // Every field of the shape selects the pipeline, so every field is in the one key (the zero region too).
    for (const [field, other] of Object.entries({ k: 1, cinBlocks: 8, coutBlocks: 8, upsample: true, relu: false, residual: true, normGroups: 2, precision: 'f16', outputF32: true, zeroVec4s: 8 })) {
      expect(convShapeKey({ ...shape, [field]: other })).not.toBe(convShapeKey(shape));
    }
  });

  it('decoders run the kernel the store names for a shape, and report it per layer', async () => {
    const weights = resolveDecoderWeights(randomStateDict(MODELS.taesd, 4), { model: 'taesd' });
    const latent = { data: randomArray(4 * 3 * 4, 5, 1.5), shape: [4, 3, 4] };
    const plain = new WebGpuDecoder(device, weights, { convKernel: 'default' });
    const want = await plain.decodeRaw(latent);
    expect(new Set(plain.kernels.map((k) => k.variant))).toEqual(new Set(['direct-8x2']));
    // A store that already holds a choice for every shape: the decoder times nothing, runs that.
    const store = memoryStore();
    const seeded = { getItem: (k: string) => (k.startsWith('taesd-web:conv:') ? JSON.stringify({ variant: 'tiled-4x2-k1', timings: {} }) : store.getItem(k)), setItem: store.setItem };
    const tuned = new WebGpuDecoder(device, weights, { convKernel: 'tune', store: seeded });
    const got = await tuned.decodeRaw(latent);
    expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    expect(tuned.kernels.map((k) => k.layer)).toContain('1');
    expect(new Set(tuned.kernels.map((k) => k.variant))).toEqual(new Set(['tiled-4x2-k1']));
    plain.destroy(); tuned.destroy();
  });

  it('a forced kernel runs where it accepts the shape, the default elsewhere; an unknown one is BAD_OPTION', async () => {
    const weights = resolveDecoderWeights(randomStateDict(MODELS.taesd, 4), { model: 'taesd' });
    const d = new WebGpuDecoder(device, weights, { convKernel: 'tiled-4x2-k4' });
    await d.decode({ data: randomArray(4 * 2 * 2, 6), shape: [4, 2, 2] });
    // The first conv reads 1 channel block: chunks of 4 do not fit it.
    expect(d.kernels.find((k) => k.layer === '1')!.variant).toBe('direct-8x2');
    expect(d.kernels.find((k) => k.layer === '3.conv.0')!.variant).toBe('tiled-4x2-k4');
    d.destroy();
    expect(() => new WebGpuDecoder(device, weights, { convKernel: 'fastest-please' })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
