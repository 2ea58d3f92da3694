// What every backend does with the same two hostile situations (issue 19, items 9 and 10): weights
// that overflow (an all-NaN/Inf image must fail, OUTPUT_NON_FINITE, not pass as black or white),
// and destroy() with decodes in flight (one behaviour: DESTROYED, never DEVICE_LOST).
import { describe, expect, it } from 'vitest';
import { createDecoder, type BackendChoice } from '../src/decoder.js';
import { loadNativeRuntime } from '../src/fallback/native.js';
import { MODELS } from '../src/model/registry.js';
import type { StateDict } from '../src/weights/tensor.js';
import { randomArray, randomStateDict } from './support/random.js';

const hasNative = await loadNativeRuntime().then(() => true, () => false);
const latent = { data: randomArray(4 * 3 * 2, 3, 1.5), shape: [4, 3, 2] };

/** TAESD weights scaled 1e6 per conv: activations pass f32's range within a few layers. */
function overflowingWeights(): StateDict {
  const dict = randomStateDict(MODELS.taesd, 7);
  for (const [key, t] of dict) if (key.endsWith('.weight')) dict.set(key, { ...t, data: (t.data as Float32Array).map((v) => v * 1e6) });
  return dict;
}

const BACKENDS: { backend: BackendChoice; skip?: string }[] = [
  { backend: 'webgpu' },
  { backend: 'wasm' },
  { backend: 'native', ...(!hasNative && { skip: 'onnxruntime-node not installed' }) },
];

describe.each(BACKENDS)('$backend', ({ backend, skip }) => {
  it.skipIf(skip)('weights that overflow: every output method fails with OUTPUT_NON_FINITE', async () => {
    const d = await createDecoder({ weights: overflowingWeights(), model: 'taesd', backend, precision: 'f32', wasm: { numThreads: 1 } });
    const code = { name: 'TaesdError', code: 'OUTPUT_NON_FINITE', message: expect.stringContaining('non-finite output') };
    await expect(d.decode(latent)).rejects.toMatchObject(code);
    await expect(d.decodeRaw(latent)).rejects.toMatchObject(code);
    await expect(d.decodeBatch({ data: latent.data, shape: [1, ...latent.shape] })).rejects.toMatchObject(code);
    if (backend === 'webgpu') {
      const device = d.device!;
      const buffer = device.createBuffer({ size: 16 * 24 * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
      await expect(d.decodeToBuffer(latent, buffer)).rejects.toMatchObject(code);
      const texture = device.createTexture({ size: [16, 24], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING });
      await expect(d.decodeToTexture(latent, texture)).rejects.toMatchObject(code);
    }
    d.destroy();
  });

  it.skipIf(skip)('destroy() with decodes in flight: each resolves or rejects DESTROYED, later calls reject DESTROYED', async () => {
    const d = await createDecoder({ weights: randomStateDict(MODELS.taesd, 8), model: 'taesd', backend, precision: 'f32', wasm: { numThreads: 1 } });
    const inFlight = [d.decode(latent), d.decodeRaw(latent), d.decode(latent)];
    d.destroy();
    const settled = await Promise.allSettled(inFlight);
    for (const s of settled) {
      if (s.status === 'fulfilled') expect(s.value.width).toBe(16);
      else expect(s.reason).toMatchObject({ code: 'DESTROYED' });
    }
    // The calls queued behind the one running never start.
    expect(settled.at(-1)).toMatchObject({ status: 'rejected', reason: { code: 'DESTROYED' } });
    await expect(d.decode(latent)).rejects.toMatchObject({ code: 'DESTROYED' });
  });
});
