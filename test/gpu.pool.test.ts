// The video runner's buffer pool: sizes reused, idle memory bounded by twice the peak in use.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { BufferPool } from '../src/gpu/bufferPool.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { createVideoDecoder } from '../src/videoDecoder.js';
import { randomArray } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON, sharedPath } from './support/shared.js';

const { device } = await requestGpuDevice();
afterAll(() => device.destroy());

describe('BufferPool', () => {
  it('gives a buffer of the same (256-aligned) size back out, and makes one only when none is idle', () => {
    const pool = new BufferPool(device);
    const a = pool.take('a', 1000);
    expect(a.size).toBe(1024);
    pool.give(a);
    expect(pool.take('again', 1024)).toBe(a);
    const b = pool.take('b', 1000);
    expect(b).not.toBe(a);
    pool.clear();
  });

  it('keeps idle buffers up to twice the most in use at once, dropping the least recently given back first', () => {
    const pool = new BufferPool(device);
    const first = pool.take('first', 1024);
    pool.give(first); // the peak in use is 1024: up to 2048 idle
    const later = [256, 512].map((n) => pool.take(`later ${n}`, n));
    later.forEach((b) => pool.give(b)); // idle 1792: all kept
    expect(pool.take('256 again', 256)).toBe(later[0]);
    pool.give(later[0]!);
    pool.give(pool.take('768', 768)); // idle 2560 > 2048: the 1024 (given back first) goes
    expect(pool.take('512 again', 512)).toBe(later[1]);
    expect(pool.take('1024 again', 1024)).not.toBe(first);
    pool.clear();
  });

  it('destroys what it did not make instead of keeping it', () => {
    const pool = new BufferPool(device);
    const foreign = device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE });
    pool.give(foreign);
    expect(pool.take('fresh', 256)).not.toBe(foreign);
  });
});

describe.skipIf(!HAS_SHARED)('TAEHV on WebGPU reuses its buffers', () => {
  it('a second decode of the same latent makes only the zero states and per-run uniforms, and the same frames', async () => {
    const labels: string[] = [];
    const create = device.createBuffer.bind(device);
    device.createBuffer = (d: GPUBufferDescriptor) => { labels.push(d.label ?? ''); return create(d); };
    const decoder = await createVideoDecoder({ weights: readFileSync(sharedPath('models/test/taew2_1_randw.pth')), model: 'taew2_1', backend: 'webgpu', webgpu: { device, precision: 'f32', convKernel: 'tiled' } });
    const latent = { data: randomArray(16 * 5 * 6 * 8, 3, 1.5), shape: [1, 16, 5, 6, 8] };
    const first = await decoder.decodeVideoRaw(latent, { chunk: 2 });
    labels.length = 0;
    const again = await decoder.decodeVideoRaw(latent, { chunk: 2 });
    device.createBuffer = create;
    expect(new Set(labels)).toEqual(new Set(['taesd video state', 'taesd video dims']));
    expect(again.map((f, i) => maxAbsDiff(f.data, first[i]!.data))).toEqual(again.map(() => 0));
    decoder.destroy();
  }, 120_000);
});
describe.skipIf(HAS_SHARED)('TAEHV on WebGPU reuses its buffers', () => it.skip(NO_SHARED_REASON, () => undefined));
