import { fail } from '../errors.js';
import type { Latent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import { encodeDispatches, kernelDispatch } from './kernels.js';

/**
 * The `params` uniform of shaders/latent_rgb.wgsl for a width x height latent: u32 width, height,
 * upscale, pad; vec4f bias; then one vec4f factor row per latent channel (rgb, 0).
 */
export function latentRgbParams(model: ModelSpec, width: number, height: number, upscale = 1): ArrayBuffer {
  const buffer = new ArrayBuffer(32 + 16 * model.latentChannels);
  new Uint32Array(buffer, 0, 3).set([width, height, upscale]);
  const floats = new Float32Array(buffer, 16);
  floats.set(model.latentRgbBias);
  model.latentRgbFactors.forEach((row, c) => floats.set(row, 4 * (c + 1)));
  return buffer;
}

/**
 * The linear preview on the GPU, drawn straight into a texture (a canvas's): the WGSL twin of
 * latent2rgb, for the canvas path. Buffers are kept for the last latent size.
 */
export class LinearPreview {
  private buffers: { key: string; latent: GPUBuffer; params: GPUBuffer } | null = null;

  constructor(readonly device: GPUDevice, readonly model: ModelSpec, readonly upscale = 1) {}

  /** Draws `latent` (prepared: TAESD space, unpacked) into an rgba8unorm storage texture of (w, h) x upscale. */
  async drawToTexture(latent: Latent, texture: GPUTexture): Promise<void> {
    const { width, height } = latent;
    if (texture.width !== width * this.upscale || texture.height !== height * this.upscale || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${width * this.upscale}x${height * this.upscale}`);
    }
    const key = `${width}x${height}`;
    if (this.buffers?.key !== key) {
      this.destroy();
      const usage = GPUBufferUsage.COPY_DST;
      this.buffers = {
        key,
        latent: this.device.createBuffer({ label: `taesd linear ${key} latent`, size: latent.data.byteLength, usage: usage | GPUBufferUsage.STORAGE }),
        params: this.device.createBuffer({ label: `taesd linear ${key} params`, size: 32 + 16 * this.model.latentChannels, usage: usage | GPUBufferUsage.UNIFORM }),
      };
      this.device.queue.writeBuffer(this.buffers.params, 0, latentRgbParams(this.model, width, height, this.upscale));
    }
    this.device.queue.writeBuffer(this.buffers.latent, 0, latent.data.buffer as ArrayBuffer, latent.data.byteOffset, latent.data.byteLength);
    const encoder = this.device.createCommandEncoder({ label: 'taesd linear preview' });
    const resources = [{ buffer: this.buffers.latent }, { buffer: this.buffers.params }, texture.createView()];
    encodeDispatches(encoder, [kernelDispatch(this.device, 'latentRgb', { CHANNELS: this.model.latentChannels }, resources, [Math.ceil(width / 8), Math.ceil(height / 8), 1])], 'taesd linear preview');
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.buffers?.latent.destroy();
    this.buffers?.params.destroy();
    this.buffers = null;
  }
}
