// shaders/latent_rgb.wgsl on Dawn (the `webgpu` package) against the CPU latent2rgb; skipped
// where Dawn or an adapter is missing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinearDecoder, latentRgbParams, type LinearUpscale } from '../src/fallback/linear.js';
import { MODELS, type ModelId } from '../src/model/registry.js';
import { randomArray } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';
import { ROOT } from './support/shared.js';

// Dawn crashes if its GPU object is collected while a device lives: keep it for the whole file.
let gpu: GPU | null = null;
async function openDevice(): Promise<GPUDevice | null> {
  try {
    const { create, globals } = (await import('webgpu')) as { create: (flags: string[]) => GPU; globals: object };
    Object.assign(globalThis, globals);
    gpu = create([]);
    return (await (await gpu.requestAdapter())?.requestDevice()) ?? null;
  } catch {
    return null;
  }
}
const device = await openDevice();
afterAll(() => device?.destroy());

const source = readFileSync(join(ROOT, 'shaders/latent_rgb.wgsl'), 'utf8');

async function runShader(device: GPUDevice, id: ModelId, latent: Float32Array, width: number, height: number, upscale: LinearUpscale): Promise<Uint8Array> {
  const model = MODELS[id];
  const code = `const CHANNELS: u32 = ${model.latentChannels}u;\n${source}`;
  const pipeline = device.createComputePipeline({ label: 'latent_rgb', layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const buffer = (usage: GPUBufferUsageFlags, data: ArrayBuffer | Float32Array<ArrayBuffer> | number) => {
    const size = typeof data === 'number' ? data : data.byteLength;
    const b = device.createBuffer({ size, usage: usage | GPUBufferUsage.COPY_DST });
    if (typeof data !== 'number') device.queue.writeBuffer(b, 0, data);
    return b;
  };
  const bytes = width * upscale * height * upscale * 4;
  const pixels = buffer(GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, bytes);
  const readback = buffer(GPUBufferUsage.MAP_READ, bytes);
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: buffer(GPUBufferUsage.STORAGE, new Float32Array(latent)) } },
      { binding: 1, resource: { buffer: buffer(GPUBufferUsage.UNIFORM, latentRgbParams(model, width, height, upscale)) } },
      { binding: 2, resource: { buffer: pixels } },
    ],
  });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(Math.ceil(width / 8), Math.ceil(height / 8));
  pass.end();
  encoder.copyBufferToBuffer(pixels, 0, readback, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = new Uint8Array(readback.getMappedRange().slice(0));
  readback.unmap();
  return out;
}

describe.skipIf(!device)('shaders/latent_rgb.wgsl', () => {
  it.each([
    ['taesd', 1],
    ['taesd3', 2],
    ['taef2', 1],
    ['taef2', 4],
  ] as const)('%s, upscale %i, matches latent2rgb within 1 level', async (id, upscale) => {
    const [height, width] = [9, 13];
    const c = MODELS[id].latentChannels;
    const data = randomArray(c * height * width, 21, 1.5);
    const gpuPixels = await runShader(device!, id, data, width, height, upscale);
    const cpu = await createLinearDecoder(MODELS[id], { upscale }).decode({ data, shape: [c, height, width] });
    expect(maxAbsDiff(gpuPixels, cpu.data)).toBeLessThanOrEqual(1);
  });
});
