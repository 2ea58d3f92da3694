// The lowered op list (src/model/graph.ts), interpreted by the CPU reference, against the PyTorch
// goldens of ../shared (made by an independent reference, tools/taesd_ref.py): so correctness
// does not rest on this code's own reading of the architectures. Then the GPU program's fusion.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/gpu/program.js';
import { graphFlops, lowerDecoder, upsampleCount } from '../src/model/graph.js';
import { MODEL_IDS, MODELS } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { loadGolden, taef2Weights } from './support/golden.js';
import { randomStateDict } from './support/random.js';
import { maxAbsDiff, referenceDecode } from './support/reference.js';
import { HAS_SHARED, sharedPath } from './support/shared.js';

const latentOf = (data: Float32Array, shape: readonly number[]) => {
  const [channels, height, width] = shape.slice(-3) as [number, number, number];
  return { batch: 1, channels, height, width, data };
};

describe.skipIf(!HAS_SHARED)('the op list against PyTorch', () => {
  it.each([
    ['taef2_rand_8x8', 0],
    ['taef2_rand_5x7', 0],
    ['taef2_rand_8x8_half', 1],
    ['taef2_rand_8x8_quarter', 2],
  ] as const)('%s (last %i upsamples skipped)', (name, skipUpsamples) => {
    const g = loadGolden(name);
    const graph = lowerDecoder(taef2Weights(), { skipUpsamples });
    const out = referenceDecode(graph, latentOf(g.latent.data, g.latent.shape));
    expect([3, out.h, out.w]).toEqual(g.image.shape);
    expect(maxAbsDiff(out.data, g.image.data)).toBeLessThan(1e-4);
  });

  it('taef2_batch_5x7, item by item', () => {
    const g = loadGolden('taef2_batch_5x7');
    const [n, c, h, w] = g.latent.shape as [number, number, number, number];
    const graph = lowerDecoder(taef2Weights());
    const per = 3 * 64 * h * w;
    for (let i = 0; i < n; i++) {
      const out = referenceDecode(graph, latentOf(g.latent.data.subarray(i * c * h * w, (i + 1) * c * h * w), [c, h, w]));
      expect(maxAbsDiff(out.data, g.image.data.subarray(i * per, (i + 1) * per))).toBeLessThan(1e-4);
    }
  });

  it('taesana_rand_4x5: widths 256/128/64, five upsamples, 32x', () => {
    const g = loadGolden('taesana_rand_4x5');
    const weights = resolveDecoderWeights(parseWeights(readFileSync(sharedPath('models/test/taesana_randw_decoder.pth')), 'taesana_randw_decoder.pth'));
    expect(weights.model.id).toBe('taesana');
    const graph = lowerDecoder(weights);
    expect(graph.upscale).toBe(32);
    const out = referenceDecode(graph, latentOf(g.latent.data, g.latent.shape));
    expect([3, out.h, out.w]).toEqual(g.image.shape);
    expect(maxAbsDiff(out.data, g.image.data)).toBeLessThan(1e-4);
  }, 180_000);
});

describe('lowering', () => {
  it("counts taef2's FLOPs as ../shared/README.md does: 142.3 GFLOP per 64x64 latent", () => {
    const graph = lowerDecoder(taef2Weights());
    expect(graphFlops(graph, 64, 64) / 1e9).toBeCloseTo(142.3, 1);
    // Skipping the last upsample runs the last stage (conv 17, block 18, conv 19) at half size: a quarter of its work.
    const last = graph.ops.filter((o) => o.kind === 'conv' && o.out.level === 3).map((o) => o.kind === 'conv' ? 2 * 9 * o.conv.cin * o.conv.cout * 512 * 512 : 0);
    expect(last).toHaveLength(5);
    const lastStage = last.reduce((a, b) => a + b, 0);
    expect(graphFlops(lowerDecoder(taef2Weights(), { skipUpsamples: 1 }), 64, 64)).toBe(graphFlops(graph, 64, 64) - (3 / 4) * lastStage);
  });

  it.each(MODEL_IDS)('%s: every op shape follows its layer list', (id) => {
    const weights = resolveDecoderWeights(randomStateDict(MODELS[id], 2), { model: id });
    const graph = lowerDecoder(weights);
    const ups = upsampleCount(weights);
    expect(graph.upscale).toBe(2 ** ups);
    expect([graph.input.channels, graph.output.channels]).toEqual([MODELS[id].latent.channels, 3]);
    for (let k = 0; k <= ups; k++) expect(lowerDecoder(weights, { skipUpsamples: k }).upscale).toBe(2 ** (ups - k));
    expect(() => lowerDecoder(weights, { skipUpsamples: ups + 1 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });

  it('fuses every ReLU, add, upsample and GroupNorm into conv steps on the GPU', () => {
    const taef2 = buildProgram(lowerDecoder(taef2Weights()));
    const convs = taef2.steps.filter((s) => s.kind === 'conv');
    // 1 + 3 blocks x (3 convs + 2 pool convs) + 3 x (1 + 3 x 3) ... : one step per conv op, plus the 3 GroupNorm statistics.
    expect(convs.length).toBe(lowerDecoder(taef2Weights()).ops.filter((o) => o.kind === 'conv').length);
    expect(taef2.steps.length - convs.length).toBe(3);
    expect(convs.filter((s) => s.upsample).length).toBe(3);
    expect(convs.filter((s) => s.stats).length).toBe(3);
    expect(taef2.zeroVec4s).toBe(16);
    const sana = buildProgram(lowerDecoder(resolveDecoderWeights(randomStateDict(MODELS.taesana, 3))));
    expect(sana.zeroVec4s).toBe(64);
  });
});
