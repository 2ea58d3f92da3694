// Each WGSL kernel against the plain CPU reference, on small random inputs with odd sizes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConv, convVariant, CONV_VARIANTS, DEFAULT_CONV, type ConvVariant, type Precision } from '../src/gpu/conv.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import type { ConvWeights } from '../src/model/weights.js';
import { gpuConv, gpuGroupStats } from './support/gpu.js';
import { randomArray } from './support/random.js';
import { add, conv, groupNorm, maxAbsDiff, relu, upsample, type Map3 } from './support/reference.js';

let device: GPUDevice;
beforeAll(async () => { ({ device } = await requestGpuDevice()); });
// Asked of the adapter before the tests are collected: f16 variants are skipped (said so) without it.
const hasF16 = await requestGpuDevice().then(({ device: d }) => { const f = d.features.has('shader-f16'); d.destroy(); return f; });
afterAll(() => device?.destroy());

let seed = 100;
const map = (c: number, h: number, w: number, scale = 1): Map3 => ({ c, h, w, data: randomArray(c * h * w, seed++, scale) });
const weights = (cin: number, cout: number, k: number, bias: boolean): ConvWeights => ({
  key: 'test', cin, cout, k,
  weight: randomArray(cout * cin * k * k, seed++, Math.sqrt(2 / (cin * k * k))),
  bias: bias ? randomArray(cout, seed++, 0.1) : null,
});

type ConvCase = readonly [name: string, cin: number, cout: number, k: number, h: number, w: number];
/** One test per case: `variant` against the CPU reference, its input stored at `precision`. */
const matchesReference = (variant: ConvVariant, cases: readonly ConvCase[], precision: Precision = 'f32', tolerance = 1e-4) =>
  it.each(cases)('%s', async (_name, cin, cout, k, h, w) => {
    const p = weights(cin, cout, k, true);
    const x = map(cin, h, w);
    expect(maxAbsDiff((await gpuConv(device, p, x, { variant, precision })).data, conv(x, p).data)).toBeLessThan(tolerance);
  });

/** `variant` with the fusions convs use against the reference, at `cout` output channels: upsample + residual + ReLU, and GroupNorm + ReLU on the input. */
function fusionsMatchReference(variant: ConvVariant, cout: number): void {
  it('with upsampling, residual and ReLU fused', async () => {
    const p = weights(64, cout, 3, false);
    const x = map(64, 3, 5), skip = map(cout, 6, 10);
    const got = await gpuConv(device, p, x, { upsample: true, relu: true, skip, variant });
    expect(maxAbsDiff(got.data, relu(add(conv(upsample(x), p), skip)).data)).toBeLessThan(1e-4);
  });

  it('with GroupNorm + ReLU on its input', async () => {
    const p = weights(256, cout, 1, false);
    const x = map(256, 4, 3, 2);
    const gamma = randomArray(256, seed++, 1), beta = randomArray(256, seed++, 0.5);
    const stats = await gpuGroupStats(device, x, 4, 1e-5);
    const got = await gpuConv(device, p, x, { norm: { gamma, beta, groups: 4, stats }, variant });
    expect(maxAbsDiff(got.data, conv(relu(groupNorm(x, gamma, beta, 4, 1e-5)), p).data)).toBeLessThan(1e-4);
  });
}

describe('conv kernel', () => {
  const cases: [string, number, number, number, number, number, boolean][] = [
    // name, cin, cout, k, h, w, bias
    ['3x3 64->64 at 5x7', 64, 64, 3, 5, 7, true],
    ['3x3 4->64 (taesd input) at 6x9', 4, 64, 3, 6, 9, true],
    ['3x3 16->64 (taesd3/taef1 input) at 3x11', 16, 64, 3, 3, 11, true],
    ['3x3 32->64 (taef2 input) at 7x5', 32, 64, 3, 7, 5, true],
    ['3x3 64->3 (to RGB) at 9x6', 64, 3, 3, 9, 6, true],
    ['3x3 64->64 no bias at 1x1', 64, 64, 3, 1, 1, false],
    ['1x1 64->256 at 5x3', 64, 256, 1, 5, 3, false],
    // Widths the layer lists can produce, and past them: any multiple of 4 up to 512 and beyond.
    ['3x3 4->4 at 3x4', 4, 4, 3, 3, 4, true],
    ['3x3 12->8 at 4x3', 12, 8, 3, 4, 3, true],
    ['3x3 24->20 at 3x5', 24, 20, 3, 3, 5, true],
    ['3x3 260->12 at 3x3', 260, 12, 3, 3, 3, true],
    ['3x3 512->8 at 2x3', 512, 8, 3, 2, 3, false],
    // taesana's stages
    ['3x3 256->256 at 3x2', 256, 256, 3, 3, 2, true],
    ['3x3 256->128 at 2x3', 256, 128, 3, 2, 3, false],
    ['3x3 128->64 at 3x3', 128, 64, 3, 3, 3, false],
  ];
  it.each(cases)('%s', async (_name, cin, cout, k, h, w, bias) => {
    const p = weights(cin, cout, k, bias);
    const x = map(cin, h, w);
    expect(maxAbsDiff((await gpuConv(device, p, x)).data, conv(x, p).data)).toBeLessThan(1e-4);
  });

  it('fuses ReLU and the residual add', async () => {
    const p = weights(64, 64, 3, true);
    const x = map(64, 6, 5), skip = map(64, 6, 5);
    const got = await gpuConv(device, p, x, { relu: true, skip });
    expect(maxAbsDiff(got.data, relu(add(conv(x, p), skip)).data)).toBeLessThan(1e-4);
  });

  it('fuses the nearest 2x upsample into its indexing', async () => {
    const p = weights(64, 64, 3, false);
    const x = map(64, 3, 5);
    const got = await gpuConv(device, p, x, { upsample: true });
    expect([got.h, got.w]).toEqual([6, 10]);
    expect(maxAbsDiff(got.data, conv(upsample(x), p).data)).toBeLessThan(1e-4);
  });

  it('applies GroupNorm + ReLU to its input (taef2 pool branch)', async () => {
    const p = weights(256, 64, 1, false);
    const x = map(256, 4, 3, 2);
    const gamma = randomArray(256, seed++, 1), beta = randomArray(256, seed++, 0.5);
    const stats = await gpuGroupStats(device, x, 4, 1e-5);
    const skip = map(64, 4, 3);
    const got = await gpuConv(device, p, x, { norm: { gamma, beta, groups: 4, stats }, skip });
    expect(maxAbsDiff(got.data, add(conv(relu(groupNorm(x, gamma, beta, 4, 1e-5)), p), skip).data)).toBeLessThan(1e-4);
  });

  it('applies GroupNorm to inputs whose channel blocks are not a multiple of 4 groups x 4', async () => {
    const p = weights(24, 8, 3, true);
    const x = map(24, 3, 4, 2);
    const gamma = randomArray(24, seed++, 1), beta = randomArray(24, seed++, 0.5);
    const stats = await gpuGroupStats(device, x, 2, 1e-5);
    const got = await gpuConv(device, p, x, { norm: { gamma, beta, groups: 2, stats } });
    expect(maxAbsDiff(got.data, conv(relu(groupNorm(x, gamma, beta, 2, 1e-5)), p).data)).toBeLessThan(1e-4);
  });

  it('refuses, typed, a plan whose 3x3 input is wider than the zero region', () => {
    const shape = { k: 3, cinBlocks: 128, coutBlocks: 2, upsample: false, relu: false, residual: false, normGroups: 0, precision: 'f32' as const, outputF32: true, zeroVec4s: 64, prevConcat: false };
    // Only k differs between the two: the refusal is the 3x3 padding taps reading past the zero region.
    expect(() => checkConv(DEFAULT_CONV, shape, 'too wide')).toThrow(expect.objectContaining({ code: 'INTERNAL', message: expect.stringContaining(DEFAULT_CONV.id) }));
    expect(() => checkConv(DEFAULT_CONV, { ...shape, k: 1 }, 'a 1x1 conv reads no padding')).not.toThrow();
  });
});

describe.each(['tiled-4x2-k4', 'tiled-4x2-k1', 'tiled-4x4-k2-wg32x4', 'tiled-2x4-k4-wg32x4', 'tiled-4x1-k2-wg64x1', 'direct-8x4', 'direct-4x8'])('conv kernel variant %s against the reference', (id) => {
  const variant = convVariant(id);
  // The shapes that exercise the tiling: partial tiles in x and in output blocks, upsampling, 1x1, fusions.
  matchesReference(variant, [
    ['3x3 64->64 at 5x7', 64, 64, 3, 5, 7],
    ['3x3 16->8 at 3x11', 16, 8, 3, 3, 11],
    ['3x3 64->3 at 4x9', 64, 3, 3, 4, 9],
    ['1x1 64->256 at 5x3', 64, 256, 1, 5, 3],
  ]);

  fusionsMatchReference(variant, 64);
});

describe('group norm statistics kernel', () => {
  it('matches mean and 1/std per group', async () => {
    const x = map(256, 7, 5, 3);
    x.data.forEach((v, i) => (x.data[i] = v + 1.5)); // an offset, so a one-pass variance would lose digits
    const stats = await gpuGroupStats(device, x, 4, 1e-5);
    const per = 64 * 35;
    for (let g = 0; g < 4; g++) {
      const vals = x.data.subarray(g * per, (g + 1) * per);
      const mean = vals.reduce((a, b) => a + b, 0) / per;
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / per;
      expect(stats[2 * g]).toBeCloseTo(mean, 5);
      expect(stats[2 * g + 1]).toBeCloseTo(1 / Math.sqrt(variance + 1e-5), 4);
    }
  });
});

describe.each(['split-2-wg16x16', 'split-2-wg8x32', 'split-2-wg4x64'])('conv kernel variant %s (few output blocks) against the reference', (id) => {
  const variant = convVariant(id);
  // Partial tiles in x (a tile is 32 to 128 pixels), one and two output blocks, 1x1.
  matchesReference(variant, [
    ['3x3 64->3 at 4x9', 64, 3, 3, 4, 9],
    ['3x3 64->3 at 3x70', 64, 3, 3, 3, 70],
    ['3x3 80->8 at 5x6 (lanes share 20 input blocks unevenly)', 80, 8, 3, 5, 6],
    ['1x1 64->4 at 2x131', 64, 4, 1, 2, 131],
  ]);

  fusionsMatchReference(variant, 3);

  it('refuses more than two output blocks, and lanes past the input blocks', () => {
    const shape = { k: 3, cinBlocks: 16, coutBlocks: 3, upsample: false, relu: false, residual: false, normGroups: 0, precision: 'f32' as const, outputF32: false, zeroVec4s: 16, prevConcat: false };
    expect(variant.refuses(shape)).toMatch(/at most 2/);
    expect(variant.refuses({ ...shape, coutBlocks: 1 })).toBeNull();
    expect(variant.refuses({ ...shape, coutBlocks: 1, cinBlocks: 2, zeroVec4s: 2 })).toMatch(/idle/);
  });
});

describe.skipIf(!hasF16).each(CONV_VARIANTS.filter((v) => v.id.includes('-f16')).map((v) => v.id))('conv kernel variant %s (f16 products, f16 storage) against the reference', (id) => {
  const variant = convVariant(id);
  // f16 rounds the stored inputs and each product's terms: about 1e-3 relative, on values of order 1.
  matchesReference(variant, [
    ['3x3 64->64 at 5x7', 64, 64, 3, 5, 7],
    ['3x3 128->64 at 3x9', 128, 64, 3, 3, 9],
    ['1x1 64->256 at 5x3', 64, 256, 1, 5, 3],
  ], 'f16', 2e-2);
});
