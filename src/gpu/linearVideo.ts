// A video's linear preview on the GPU: every latent frame drawn by shaders/latent_rgb.wgsl in one
// dispatch (frames as a column of one texture), read back as RGBA frames.
import type { RgbaImage } from '../model/rgba.js';
import type { Latent } from '../model/latent.js';
import type { LinearModel } from '../model/registry.js';
import type { LinearPreview } from './linearPreview.js';

/** Draws the frames of `frames` (a batch `[T,C,h,w]`, model space) and reads them back; groups of frames fit the device's texture limit. */
export async function drawLinearFrames(preview: LinearPreview<LinearModel>, frames: Latent): Promise<RgbaImage[]> {
  const { device, upscale } = preview;
  const W = frames.width * upscale, frameH = frames.height * upscale;
  const perGroup = Math.max(1, Math.min(frames.batch, Math.floor(device.limits.maxTextureDimension2D / frameH)));
  const plane = frames.channels * frames.height * frames.width;
  const out: RgbaImage[] = [];
  for (let t0 = 0; t0 < frames.batch; t0 += perGroup) {
    const n = Math.min(perGroup, frames.batch - t0);
    const group: Latent = { ...frames, batch: n, data: frames.data.subarray(t0 * plane, (t0 + n) * plane) };
    const H = frameH * n, stride = Math.ceil((W * 4) / 256) * 256;
    const texture = device.createTexture({ label: 'taesd linear video', size: [W, H], format: 'rgba8unorm', usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC });
    const staging = device.createBuffer({ label: 'taesd linear video readback', size: stride * H, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      await preview.drawToTexture(group, () => texture);
      const encoder = device.createCommandEncoder({ label: 'taesd linear video readback' });
      encoder.copyTextureToBuffer({ texture }, { buffer: staging, bytesPerRow: stride }, [W, H]);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const bytes = new Uint8Array(staging.getMappedRange());
      for (let f = 0; f < n; f++) {
        const data = new Uint8ClampedArray(W * frameH * 4);
        for (let y = 0; y < frameH; y++) data.set(bytes.subarray((f * frameH + y) * stride, (f * frameH + y) * stride + W * 4), y * W * 4);
        out.push({ width: W, height: frameH, data });
      }
      staging.unmap();
    } finally {
      texture.destroy();
      staging.destroy();
    }
  }
  return out;
}
