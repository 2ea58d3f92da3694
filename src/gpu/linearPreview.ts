import { fail } from '../errors.js';
import type { AnyLatentInput, BackendDecoder, DecodeOptions, LatentSpace } from '../model/decoderTypes.js';
import { expectCpuLatent, expectSingle, prepareLatent, type Latent } from '../model/latent.js';
import { rgbFactors, type LinearModel, type ModelSpec } from '../model/registry.js';
import { canvasTexture } from './canvas.js';
import { encodeDispatches, kernelPipeline, pipelineDispatch } from './kernels.js';
import { WG_2D } from './plan.js';
import { LINEAR_PARAMS } from './uniforms.js';

/** The uniform of shaders/latent_rgb.wgsl (LINEAR_PARAMS) for a width x height latent. */
function latentRgbParams(model: LinearModel, width: number, height: number, upscale = 1): ArrayBuffer {
  return LINEAR_PARAMS.write({ width, height, upscale, bias: model.latent.rgbBias }, rgbFactors(model));
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
    const pipeline = await kernelPipeline(this.device, 'latentRgb', { CHANNELS: this.model.latent.channels, WG_X: WG_2D, WG_Y: WG_2D });
    const texture = target();
    if (texture.width !== width * this.upscale || texture.height !== height * this.upscale || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${width * this.upscale}x${height * this.upscale}`);
    }
    const key = `${width}x${latent.height}x${batch}`;
    if (this.buffers?.key !== key) {
      this.destroy();
      const params = latentRgbParams(this.model, width, latent.height, this.upscale);
      const usage = GPUBufferUsage.COPY_DST;
      this.buffers = {
        key,
        latent: this.device.createBuffer({ label: `taesd linear ${key} latent`, size: latent.data.byteLength, usage: usage | GPUBufferUsage.STORAGE }),
        params: this.device.createBuffer({ label: `taesd linear ${key} params`, size: params.byteLength, usage: usage | GPUBufferUsage.UNIFORM }),
      };
      this.device.queue.writeBuffer(this.buffers.params, 0, params);
    }
    this.device.queue.writeBuffer(this.buffers.latent, 0, latent.data.buffer as ArrayBuffer, latent.data.byteOffset, latent.data.byteLength);
    const encoder = this.device.createCommandEncoder({ label: 'taesd linear preview' });
    const resources = [{ buffer: this.buffers.latent }, { buffer: this.buffers.params }, texture.createView()];
    encodeDispatches(encoder, [pipelineDispatch(this.device, pipeline, resources, [Math.ceil(width / WG_2D), Math.ceil(latent.height / WG_2D), batch])], 'taesd linear preview');
    this.device.queue.submit([encoder.finish()]);
    await this.device.queue.onSubmittedWorkDone();
  }

  destroy(): void {
    this.buffers?.latent.destroy();
    this.buffers?.params.destroy();
    this.buffers = null;
  }
}

/** Adds the WGSL canvas path on `device` to a CPU linear decoder (the caller keeps the device). */
export function linearOnGpu(linear: BackendDecoder, device: GPUDevice, upscale: number, latentSpace: LatentSpace): BackendDecoder {
  const preview = new LinearPreview(device, linear.model, upscale);
  const decodeToCanvas = async (latent: AnyLatentInput, context: GPUCanvasContext, options?: DecodeOptions) => {
    expectSingle(latent);
    const prepared = prepareLatent(expectCpuLatent(latent, 'linear'), linear.model, options?.latentSpace ?? latentSpace);
    const width = prepared.width * upscale, height = prepared.height * upscale;
    await preview.drawToTexture(prepared, () => canvasTexture(context, device, width, height));
    return { width, height };
  };
  return {
    model: linear.model,
    backend: linear.backend,
    capabilities: { ...linear.capabilities, gpu: { device, decodeToCanvas } },
    outputSize: (h, w, o) => linear.outputSize(h, w, o),
    decode: (l, o) => linear.decode(l, o),
    decodeRaw: (l, o) => linear.decodeRaw(l, o),
    decodeBatch: (l, o) => linear.decodeBatch(l, o),
    decodeRawBatch: (l, o) => linear.decodeRawBatch(l, o),
    destroy: () => { preview.destroy(); linear.destroy(); },
  };
}
