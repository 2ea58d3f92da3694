// Row bands on the onnxruntime backends (issue 10): a large image decodes in bands of the stages
// after the first upsample, with exact halos, and equals the unbanded decode within 1e-5.
import { describe, expect, it } from 'vitest';
import { createNativeDecoder, loadNativeRuntime } from '../src/fallback/native.js';
import { bandHeight } from '../src/fallback/ort.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import type { LatentDecoder } from '../src/model/decoderTypes.js';
import { lowerDecoder } from '../src/model/graph.js';
import { MODELS } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { randomArray, randomStateDict } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';

const hasNative = await loadNativeRuntime().then(() => true, () => false);
const weights = resolveDecoderWeights(randomStateDict(MODELS.taef2, 11), { model: 'taef2' });
const latent = { data: randomArray(2 * 32 * 24 * 16, 12, 1.5), shape: [2, 32, 24, 16] };

describe('onnxruntime row bands', () => {
  it('plan: whole when it fits, else bands of whole latent rows whose widest activation fits', () => {
    const graph = lowerDecoder(weights);
    expect(bandHeight(graph, 1, 8, 8, 1 << 30)).toBeNull();
    const rows = bandHeight(graph, 2, 24, 16, 4 << 20)!;
    expect(rows % 8).toBe(0);
    expect(rows).toBeLessThan(24 * 8);
  });

  const equalsWhole = async (make: (cap?: number) => Promise<LatentDecoder & { lastBandCount: number }>) => {
    const whole = await make();
    const banded = await make(4 << 20);
    const a = await whole.decodeRawBatch(latent);
    const b = await banded.decodeRawBatch(latent);
    expect(banded.lastBandCount).toBeGreaterThanOrEqual(3);
    b.forEach((r, i) => expect(maxAbsDiff(r.data, a[i]!.data)).toBeLessThanOrEqual(1e-5));
    whole.destroy(); banded.destroy();
  };

  it.skipIf(!hasNative)('native: a batch of 24x16 latents in several bands equals the whole decode within 1e-5', () =>
    equalsWhole((cap) => createNativeDecoder(weights, cap ? { maxBufferBytes: cap } : {})));

  it('wasm: a batch of 24x16 latents in several bands equals the whole decode within 1e-5', () =>
    equalsWhole((cap) => createWasmDecoder(weights, { numThreads: 2, ...(cap && { maxBufferBytes: cap }) })));
});
