// The WGSL linear preview (shaders/latent_rgb.wgsl via LinearPreview, the canvas path) against
// the CPU latent2rgb, on Dawn + lavapipe, drawn into a texture and read back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinearDecoder, type LinearUpscale } from '../src/fallback/linear.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { LinearPreview } from '../src/gpu/linearPreview.js';
import { prepareLatent } from '../src/model/latent.js';
import { MODELS, type ModelId } from '../src/model/registry.js';
import { read } from './support/gpu.js';
import { randomArray } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';

let device: GPUDevice;
beforeAll(async () => { ({ device } = await requestGpuDevice()); });
afterAll(() => device?.destroy());

/** Draws into a texture and returns its RGBA bytes, rows unpadded. */
async function drawAndRead(preview: LinearPreview, data: Float32Array, shape: number[]): Promise<Uint8Array> {
  const latent = prepareLatent({ data, shape }, preview.model);
  const [W, H] = [latent.width * preview.upscale, latent.height * preview.upscale];
  const texture = device.createTexture({ size: [W, H], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC });
  await preview.drawToTexture(latent, () => texture);
  const stride = Math.ceil((W * 4) / 256) * 256;
  const out = device.createBuffer({ size: stride * H, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyTextureToBuffer({ texture }, { buffer: out, bytesPerRow: stride }, [W, H]);
  device.queue.submit([encoder.finish()]);
  const padded = new Uint8Array(await read(device, out, stride * H));
  const rows = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) rows.set(padded.subarray(y * stride, y * stride + W * 4), y * W * 4);
  return rows;
}

describe('WGSL linear preview', () => {
  it.each([
    ['taesd', 1], ['taesdxl', 2], ['taesd3', 1], ['taef1', 4], ['taef2', 1], ['taef2', 8],
  ] as [ModelId, LinearUpscale][])('%s, upscale %i, matches latent2rgb within 1 level', async (id, upscale) => {
    const [height, width] = [9, 13];
    const c = MODELS[id].latent.channels;
    const data = randomArray(c * height * width, 21, 1.5);
    const gpu = await drawAndRead(new LinearPreview(device, MODELS[id], upscale), data, [c, height, width]);
    const cpu = await createLinearDecoder(MODELS[id], { upscale }).decode({ data, shape: [c, height, width] });
    expect(maxAbsDiff(gpu, cpu.data)).toBeLessThanOrEqual(1);
  });

});
