// Every golden of ../shared on every backend this machine has: full, partial (scale 1/2, 1/4),
// batch and Sana decodes against the PyTorch reference, on WebGPU (f32, f16, forced into row
// bands) and onnxruntime (WASM). The max errors printed here are the ones the README quotes.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createNativeDecoder, loadNativeRuntime } from '../src/fallback/native.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { buildProgram } from '../src/gpu/program.js';
import { scheduleDecode } from '../src/gpu/schedule.js';
import { lowerDecoder, skipForScale } from '../src/model/graph.js';
import type { LatentDecoder } from '../src/model/decoderTypes.js';
import type { RawImage } from '../src/model/rgba.js';
import { resolveDecoderWeights, type DecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { loadGolden, maxLevelDiff, taef2Weights, toRgb8 } from './support/golden.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, sharedPath } from './support/shared.js';

const { device } = await requestGpuDevice();
afterAll(() => device.destroy());

let sana: DecoderWeights | undefined;
const sanaWeights = () => (sana ??= resolveDecoderWeights(parseWeights(readFileSync(sharedPath('models/test/taesana_randw_decoder.pth')), 'taesana_randw_decoder.pth')));

/** `bands: false`: too small to band (every band's halo would cover the whole image). */
interface Case { golden: string; weights: () => DecoderWeights; scale: number; bands?: false }
const CASES: Case[] = [
  { golden: 'taef2_rand_8x8', weights: taef2Weights, scale: 1 },
  { golden: 'taef2_rand_5x7', weights: taef2Weights, scale: 1 },
  { golden: 'taef2_rand_8x8_half', weights: taef2Weights, scale: 0.5 },
  { golden: 'taef2_rand_8x8_quarter', weights: taef2Weights, scale: 0.25, bands: false },
  { golden: 'taef2_batch_5x7', weights: taef2Weights, scale: 1 },
  { golden: 'taesana_rand_4x5', weights: sanaWeights, scale: 1 },
];

/** A buffer cap one byte under the widest activation of an unbanded f32 decode: the schedule must band. */
function bandingCap(w: DecoderWeights, shape: readonly number[], scale: number): number {
  const [n, , h, wd] = shape.length === 4 ? shape : [1, ...shape];
  const program = buildProgram(lowerDecoder(w, { skipUpsamples: skipForScale(w, scale) }));
  return Math.max(1 << 16, Math.max(...scheduleDecode(program, n!, h!, wd!, 16, Infinity).slots) - 1);
}

/** An activation cap one byte under onnxruntime's widest unbanded activation: it must band. */
function ortBandingCap(w: DecoderWeights, shape: readonly number[], scale: number): number {
  const [n, , h, wd] = shape.length === 4 ? shape : [1, ...shape];
  const graph = lowerDecoder(w, { skipUpsamples: skipForScale(w, scale) });
  return Math.max(1 << 16, Math.max(...graph.ops.map((op) => n! * op.out.channels * (h! << op.out.level) * (wd! << op.out.level) * 4)) - 1);
}

interface Backend { name: string; make: (w: DecoderWeights, c: Case, shape: readonly number[]) => Promise<LatentDecoder>; tolerance: number; levels: number; skip?: string }
const f16 = device.features.has('shader-f16');
const hasNative = loadNativeRuntime().then(() => true, () => false);
const BACKENDS: Backend[] = [
  { name: 'webgpu f32', make: async (w) => new WebGpuDecoder(device, w, { precision: 'f32' }), tolerance: 2e-3, levels: 1 },
  // f16 storage keeps ~11 bits per activation; measured on lavapipe: up to 2.6e-3 (taef2), see the log
  { name: 'webgpu f16', make: async (w) => new WebGpuDecoder(device, w, { precision: 'f16' }), tolerance: 1e-2, levels: 3, ...(!f16 && { skip: 'no shader-f16' }) },
  { name: 'webgpu f32 banded', make: async (w, c, shape) => new WebGpuDecoder(device, w, { precision: 'f32', maxBufferBytes: bandingCap(w, shape, c.scale) }), tolerance: 2e-3, levels: 1 },
  { name: 'wasm', make: (w) => createWasmDecoder(w, { numThreads: 2 }), tolerance: 2e-3, levels: 1 },
  { name: 'wasm banded', make: (w, c, shape) => createWasmDecoder(w, { numThreads: 2, maxBufferBytes: ortBandingCap(w, shape, c.scale) }), tolerance: 2e-3, levels: 1 },
  { name: 'native', make: (w) => createNativeDecoder(w), tolerance: 2e-3, levels: 1, ...(!(await hasNative) && { skip: 'onnxruntime-node not installed' }) },
  { name: 'native banded', make: (w, c, shape) => createNativeDecoder(w, { maxBufferBytes: ortBandingCap(w, shape, c.scale) }), tolerance: 2e-3, levels: 1, ...(!(await hasNative) && { skip: 'onnxruntime-node not installed' }) },
];

describe.skipIf(!HAS_SHARED).each(BACKENDS)('$name', (backend) => {
  it.skipIf(backend.skip)(`matches every golden${backend.skip ? ` (skipped: ${backend.skip})` : ''}`, async () => {
    const report: string[] = [];
    for (const c of CASES) {
      if (backend.name.endsWith('banded') && c.bands === false) continue;
      const g = loadGolden(c.golden);
      const batch = g.latent.shape.length === 4 ? g.latent.shape[0]! : 1;
      const [H, W] = g.image.shape.slice(-2) as [number, number];
      const decoder = await backend.make(c.weights(), c, g.latent.shape);
      const latent = { data: g.latent.data, shape: g.latent.shape };
      const raws: RawImage[] = await decoder.decodeRawBatch(latent, { scale: c.scale });
      const images = await decoder.decodeBatch(latent, { scale: c.scale });
      expect(raws).toHaveLength(batch);
      let err = 0, levels = 0;
      raws.forEach((raw, i) => {
        const want = g.image.data.subarray(i * 3 * H * W, (i + 1) * 3 * H * W);
        expect([raw.height, raw.width]).toEqual([H, W]);
        err = Math.max(err, maxAbsDiff(raw.data, want));
        levels = Math.max(levels, maxLevelDiff(images[i]!.data, toRgb8(want, H * W)));
      });
      const bands = (decoder as { lastBandCount?: number }).lastBandCount ?? 1;
      if (backend.name.endsWith('banded')) expect(bands).toBeGreaterThan(1);
      report.push(`${c.golden} ${err.toExponential(2)} (${levels} lv${bands > 1 ? `, ${bands} bands` : ''})`);
      expect(err, c.golden).toBeLessThanOrEqual(backend.tolerance);
      expect(levels, c.golden).toBeLessThanOrEqual(backend.levels);
      decoder.destroy();
    }
    console.log(`${backend.name}: ${report.join('; ')}`);
  }, 600_000);
});
