import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestGpuDevice } from '../src/gpu/device.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { loadGolden, maxLevelDiff, taef2Weights, toRgb8 } from './support/golden.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED } from './support/shared.js';

let device: GPUDevice;
beforeAll(async () => { ({ device } = await requestGpuDevice()); });
afterAll(() => device?.destroy());

describe.skipIf(!HAS_SHARED).each(['taef2_rand_8x8', 'taef2_rand_5x7'])('WebGPU golden %s', (name) => {
  it('f32 matches the reference', async () => {
    const g = loadGolden(name);
    const decoder = new WebGpuDecoder(device, taef2Weights());
    const t0 = performance.now();
    const raw = await decoder.decodeRaw({ data: g.latent.data, shape: g.latent.shape });
    const t1 = performance.now();
    const err = maxAbsDiff(raw.data, g.image.data);
    const rgba = await decoder.decode({ data: g.latent.data, shape: g.latent.shape });
    const lv = maxLevelDiff(rgba.data, toRgb8(g.image.data, raw.width * raw.height));
    console.log(`${name} f32: max abs ${err.toExponential(2)}, max level ${lv}, first decode ${(t1 - t0).toFixed(0)} ms`);
    expect(raw.width).toBe(g.image.shape[2]);
    expect(err).toBeLessThan(2e-3);
    expect(lv).toBeLessThanOrEqual(1);
    decoder.destroy();
  });
});
