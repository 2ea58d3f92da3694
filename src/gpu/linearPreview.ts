import { fail } from '../errors.js';
import type { AnyLatentInput, DecodeOptions, LatentDecoder, LatentSpace } from '../model/decoder.js';
import { expectCpuLatent, expectSingle, prepareLatent, type Latent } from '../model/latent.js';
import { canvasTexture } from './canvas.js';
import { rgbFactors, type LinearModel, type ModelSpec } from '../model/registry.js';
import { encodeDispatches, kernelPipeline } from './kernels.js';

/**
 * The `params` uniform of shaders/latent_rgb.wgsl for a width x height latent: u32 width, height,
 * upscale, pad; vec4f bias; then one vec4f factor row per latent channel (rgb, 0).
 */
export function latentRgbParams(model: LinearModel, width: number, height: number, upscale = 1): ArrayBuffer {
  const buffer = new ArrayBuffer(32 + 16 * model.latent.channels);
  new Uint32Array(buffer, 0, 3).set([width, height, upscale]);
  const floats = new Float32Array(buffer, 16);
  floats.set(model.latent.rgbBias);
  rgbFactors(model).forEach((row, c) => floats.set(row, 4 * (c + 1)));
  return buffer;
}

/**
 * The linear preview on the GPU, drawn straight into a texture (a canvas's): the WGSL twin of
 * latent2rgb, for the canvas path. Buffers are kept for the last latent size.
 */
export class LinearPreview<M extends LinearModel = ModelSpec> {
  private buffers: { key: string; latent: GPUBuffer; params: GPUBuffer } | null = null;

  constructor(readonly device: GPUDevice, readonly model: M, readonly upscale = 1) {}

  /**
   * Draws `latent` (prepared: TAESD space, unpacked) into an rgba8unorm storage texture of (w, h) x
   * upscale, taken from `target` only once nothing is left to await (a canvas's expires with the task).
   * A batch (a video's frames) is drawn as a column: item i below item i - 1.
   */
  async drawToTexture(latent: Latent, target: () => GPUTexture): Promise<void> {
    const { width, batch } = latent;
    const height = latent.height * batch;
    const pipeline = await kernelPipeline(this.device, 'latentRgb', { CHANNELS: this.model.latent.channels });
    const texture = target();
    if (texture.width !== width * this.upscale || texture.height !== height * this.upscale || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${width * this.upscale}x${height * this.upscale}`);
    }
    const key = `${width}x${latent.height}x${batch}`;
    if (this.buffers?.key !== key) {
      this.destroy();
      const usage = GPUBufferUsage.COPY_DST;
      this.buffers = {
        key,
        latent: this.device.createBuffer({ label: `taesd linear ${key} latent`, size: latent.data.byteLength, usage: usage | GPUBufferUsage.STORAGE }),
        params: this.device.createBuffer({ label: `taesd linear ${key} params`, size: 32 + 16 * this.model.latent.channels, usage: usage | GPUBufferUsage.UNIFORM }),
      };
      this.device.queue.writeBuffer(this.buffers.params, 0, latentRgbParams(this.model, width, latent.height, this.upscale));
    }
    this.device.queue.writeBuffer(this.buffers.latent, 0, latent.data.buffer as ArrayBuffer, latent.data.byteOffset, latent.data.byteLength);
    const encoder = this.device.createCommandEncoder({ label: 'taesd linear preview' });
    const resources = [{ buffer: this.buffers.latent }, { buffer: this.buffers.params }, texture.createView()];
    const bindGroup = this.device.createBindGroup({ label: 'taesd linear preview', layout: pipeline.getBindGroupLayout(0), entries: resources.map((resource, binding) => ({ binding, resource })) });
    encodeDispatches(encoder, [{ pipeline, bindGroup, workgroups: [Math.ceil(width / 8), Math.ceil(latent.height / 8), batch] }], 'taesd linear preview');
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.buffers?.latent.destroy();
    this.buffers?.params.destroy();
    this.buffers = null;
  }
}

/** A linear-preview decoder that also draws into WebGPU canvases through the WGSL kernel. */
export interface LinearGpuDecoder extends LatentDecoder {
  decodeToCanvas(latent: AnyLatentInput, context: GPUCanvasContext, options?: DecodeOptions): Promise<{ width: number; height: number }>;
}

/** Adds the WGSL canvas path on `device` to a CPU linear decoder (the caller keeps the device). */
export function linearOnGpu(linear: LatentDecoder, device: GPUDevice, upscale: number, latentSpace: LatentSpace): LinearGpuDecoder {
  const preview = new LinearPreview(device, linear.model, upscale);
  return {
    model: linear.model,
    backend: linear.backend,
    decode: (l, o) => linear.decode(l, o),
    decodeRaw: (l, o) => linear.decodeRaw(l, o),
    decodeBatch: (l, o) => linear.decodeBatch(l, o),
    decodeRawBatch: (l, o) => linear.decodeRawBatch(l, o),
    async decodeToCanvas(latent, context, options) {
      expectSingle(latent);
      const prepared = prepareLatent(expectCpuLatent(latent, 'linear'), linear.model, options?.latentSpace ?? latentSpace);
      const width = prepared.width * upscale, height = prepared.height * upscale;
      await preview.drawToTexture(prepared, () => canvasTexture(context, device, width, height));
      return { width, height };
    },
    destroy: () => { preview.destroy(); linear.destroy(); },
  };
}
