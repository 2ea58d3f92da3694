// The WebGPU backend: a latent checked and written (or a caller's GPU buffer bound), the planned
// dispatches encoded (planner.ts), and the output read back or drawn (submit.ts). The decode
// methods, queue and destroy rules come from DecoderSurface (model/surface.ts).
import { fail } from '../errors.js';
import { isGpuLatent, type AnyLatentInput, type DecodeOptions, type DecoderCapabilities, type GpuLatentInput, type LatentSpace, type LayerKernel } from '../model/decoderTypes.js';
import { skipForScale } from '../model/graph.js';
import { checkLatentShape, expectSingle, isPrepared, prepareLatent, type Latent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import { type RawImage } from '../model/rgba.js';
import { DecoderSurface, type CheckedRgba } from '../model/surface.js';
import type { DecoderWeights } from '../model/weights.js';
import { canvasTexture } from './canvas.js';
import { convVariant, type Precision } from './conv.js';
import { deviceAdapterInfo, isFallbackAdapter } from './device.js';
import { encodeDispatches, kernelPipeline, pipelineDispatch } from './kernels.js';
import { WG_2D, type Plan } from './plan.js';
import { imageParams, Planner } from './planner.js';
import { GpuSubmitter } from './submit.js';
import { processStore, type TuningStore } from './tune.js';
import { LATENT_DIMS } from './uniforms.js';

export type { LayerKernel } from '../model/decoderTypes.js';
export type { Precision };

/** Default cap on one buffer: bands keep a 4096x4096 decode to a few buffers of this size. */
const DEFAULT_MAX_BUFFER_BYTES = 256 << 20;

export interface WebGpuDecoderOptions {
  /** `'f16'` stores activations as f16 (accumulating in f32) and needs a device with `shader-f16` (BAD_OPTION otherwise); default `'f32'`. */
  readonly precision?: Precision;
  readonly latentSpace?: LatentSpace;
  /**
   * Largest buffer to allocate, in bytes (default: 256 MiB or the device's
   * `maxStorageBufferBindingSize`, whichever is less). Larger images decode in row bands below it.
   */
  readonly maxBufferBytes?: number;
  /** Destroy `device` with the decoder (it was made for it); default false: the caller's device is left alone. */
  readonly ownsDevice?: boolean;
  /** Conv kernels: `'auto'` (tune on hardware adapters), `'tune'`, `'default'`, or a kernel id (see CONV_VARIANTS). */
  readonly convKernel?: string;
  /** Where kernel timings are remembered per adapter (default: this process or page). */
  readonly store?: TuningStore;
}

/** A latent in a caller's GPU buffer, checked against the model. */
interface GpuLatent { readonly buffer: GPUBuffer; readonly f16: boolean; readonly packed: boolean; readonly batch: number; readonly height: number; readonly width: number }

/** One call's input, prepared at call time. */
interface GpuInput { readonly skip: number; readonly space: LatentSpace; readonly latent: Latent | GpuLatent }

type Size = { width: number; height: number };

export class WebGpuDecoder extends DecoderSurface<GpuInput> {
  readonly backend = 'webgpu' as const;
  readonly model: ModelSpec;
  readonly precision: Precision;
  readonly capabilities: DecoderCapabilities;
  private readonly gpu: GpuSubmitter;
  private readonly planner: Planner;
  private readonly latentSpace: LatentSpace;
  private readonly ownsDevice: boolean;
  private bands = 0;

  constructor(
    readonly device: GPUDevice,
    private readonly weights: DecoderWeights,
    options: WebGpuDecoderOptions = {},
  ) {
    super();
    this.model = weights.model;
    const f16 = options.precision === 'f16';
    if (f16 && !device.features.has('shader-f16')) fail('BAD_OPTION', "precision 'f16' needs a device with the shader-f16 feature");
    this.precision = f16 ? 'f16' : 'f32';
    this.latentSpace = options.latentSpace ?? 'model';
    this.ownsDevice = options.ownsDevice ?? false;
    const info = deviceAdapterInfo(device);
    const emulated = info !== null && isFallbackAdapter(info);
    const kernel = options.convKernel ?? 'auto';
    const convKernel = kernel === 'auto' ? (emulated ? 'default' : 'tune') : kernel;
    if (!['tune', 'default'].includes(convKernel)) convVariant(convKernel);
    const cap = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    if (!(Number.isFinite(cap) && cap >= 1 << 16)) fail('BAD_OPTION', `maxBufferBytes must be a number >= 64 KiB, got ${String(options.maxBufferBytes)}`);
    const maxBytes = Math.min(cap, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.gpu = new GpuSubmitter(device);
    this.planner = new Planner(this.gpu, weights, { precision: this.precision, maxBytes, convKernel, store: options.store ?? processStore });
    this.capabilities = {
      numThreads: null,
      kernels: () => this.planner.kernels,
      gpu: {
        device,
        decodeToCanvas: (latent, context, opts) => this.decodeToCanvas(latent, context, opts),
        decodeToTexture: (latent, texture, opts) => this.decodeToTexture(latent, texture, opts),
        decodeToBuffer: (latent, buffer, opts) => this.decodeToBuffer(latent, buffer, opts),
      },
    };
  }

  /** How many row bands the last decode ran in (1 = unbanded; 0 before the first). */
  get lastBandCount(): number {
    return this.bands;
  }

  /** The conv kernel each layer of the most recent decode ran with (tuned per adapter and layer shape). */
  get kernels(): readonly LayerKernel[] {
    return this.planner.kernels;
  }

  outputSize(h: number, w: number, options?: DecodeOptions): Size {
    const u = this.planner.program(skipForScale(this.weights, options?.scale)).graph.upscale;
    return { width: w * u, height: h * u };
  }

  /**
   * Decodes into a texture on this decoder's device with no CPU readback: an `rgba8unorm` texture
   * with `STORAGE_BINDING` usage, of the image's size. Resolves, with the image size, once the GPU
   * has finished the frame.
   */
  decodeToTexture(latent: AnyLatentInput, texture: GPUTexture, options?: DecodeOptions): Promise<Size> {
    expectSingle(latent);
    return this.queued(latent, options, async (input) => this.draw(await this.encode(input), () => texture));
  }

  /**
   * Decodes straight into a WebGPU canvas (configured here for this device, `rgba8unorm`,
   * storage usage; its size set to the image's): the live-preview path. The canvas is resized and
   * its texture taken when this decode's turn comes, so overlapping calls draw in order.
   */
  decodeToCanvas(latent: AnyLatentInput, context: GPUCanvasContext, options?: DecodeOptions): Promise<Size> {
    expectSingle(latent);
    return this.queued(latent, options, async (input) => {
      const encoded = await this.encode(input);
      return this.draw(encoded, () => canvasTexture(context, this.device, encoded.plan.width, encoded.plan.height));
    });
  }

  /**
   * Decodes into a buffer the caller owns on this device, with no CPU readback: 8-bit RGBA, one
   * u32 per pixel, row-major, the items of a batch one after another, from byte 0. The buffer
   * needs `COPY_DST` usage and room for `N * width * height * 4` bytes. Resolves, with the image
   * size, once the GPU has finished.
   */
  decodeToBuffer(latent: AnyLatentInput, buffer: GPUBuffer, options?: DecodeOptions): Promise<Size & { batch: number }> {
    return this.queued(latent, options, async (input) => {
      const { plan, encoder } = await this.encode(input);
      const bytes = plan.batch * plan.width * plan.height * 4;
      if (buffer.size < bytes || !(buffer.usage & GPUBufferUsage.COPY_DST)) fail('BAD_OPTION', `target buffer has ${buffer.size} bytes${buffer.usage & GPUBufferUsage.COPY_DST ? '' : ' and no COPY_DST usage'}; need COPY_DST and ${bytes} bytes`);
      encodeDispatches(encoder, [plan.rgbaDispatch]);
      encoder.copyBufferToBuffer(plan.rgbaBuffer, 0, buffer, 0, bytes);
      this.checkOutput(await this.readNonFinite(plan, encoder));
      return { width: plan.width, height: plan.height, batch: plan.batch };
    });
  }

  protected prepare(latent: AnyLatentInput, options: DecodeOptions | undefined): GpuInput {
    const skip = skipForScale(this.weights, options?.scale);
    const space = options?.latentSpace ?? this.latentSpace;
    if (space !== 'model' && space !== 'vae') fail('BAD_OPTION', `latentSpace must be 'model' or 'vae', got ${String(space)}`);
    // A CPU latent is checked and unpacked here but mapped from VAE space by the input kernel, as a
    // GPU latent is; a prepared one (Decoder.prepareLatent) is in model space already.
    if (isGpuLatent(latent)) return { skip, space, latent: this.gpuLatent(latent) };
    return { skip, space: isPrepared(latent, this.model) ? 'model' : space, latent: prepareLatent(latent, this.model, 'model') };
  }

  protected async rawBatch(input: GpuInput): Promise<RawImage[]> {
    const { plan, encoder } = await this.encode(input);
    const pixels = plan.width * plan.height;
    const part = { src: plan.outputBuffer, offset: plan.program.zeroVec4s * 16, bytes: plan.batch * pixels * 16 };
    const rgbx = new Float32Array(await this.gpu.readback(encoder, this.staging(plan, part.bytes), [part]));
    return Array.from({ length: plan.batch }, (_, item) => {
      const data = new Float32Array(3 * pixels);
      for (let i = 0, at = item * pixels * 4; i < pixels; i++, at += 4) {
        data[i] = rgbx[at]!;
        data[pixels + i] = rgbx[at + 1]!;
        data[2 * pixels + i] = rgbx[at + 2]!;
      }
      return { width: plan.width, height: plan.height, data };
    });
  }

  /** RGBA made on the GPU; the output kernel counts non-finite values, read back with the pixels. */
  protected override async rgbaBatch(input: GpuInput): Promise<CheckedRgba> {
    const { plan, encoder } = await this.encode(input);
    encodeDispatches(encoder, [plan.rgbaDispatch]);
    const pixels = plan.width * plan.height, bytes = plan.batch * pixels * 4;
    const parts = [{ src: plan.rgbaBuffer, offset: 0, bytes }, { src: plan.nonFinite, offset: 0, bytes: 4 }];
    const out = await this.gpu.readback(encoder, this.staging(plan, bytes + 4), parts);
    const images = Array.from({ length: plan.batch }, (_, i) => ({ width: plan.width, height: plan.height, data: new Uint8ClampedArray(out, i * pixels * 4, pixels * 4) }));
    return { images, nonFinite: new Uint32Array(out, bytes, 1)[0]! };
  }

  protected override lostReason(): string | null {
    return this.gpu.lostReason;
  }

  protected release(): void {
    this.planner.destroy();
    if (this.ownsDevice) this.device.destroy();
  }

  /** The plan of `input`, and an encoder holding its input kernel and every decode dispatch. */
  private async encode({ skip, space, latent }: GpuInput): Promise<{ plan: Plan; encoder: GPUCommandEncoder }> {
    const source = 'buffer' in latent ? { gpu: true, f16: latent.f16, packed: latent.packed } : { gpu: false, f16: false, packed: false };
    const plan = await this.planner.plan({ skip, source, batch: latent.batch, height: latent.height, width: latent.width });
    const encoder = this.device.createCommandEncoder({ label: 'taesd decode' });
    encoder.clearBuffer(plan.nonFinite);
    this.encodeInput(plan, encoder, latent, space);
    encodeDispatches(encoder, plan.dispatches);
    this.bands = plan.bandCount;
    return { plan, encoder };
  }

  /** Checks a GPU-resident latent's shape, type and buffer against the model. */
  private gpuLatent(latent: GpuLatentInput): GpuLatent {
    const { buffer, dtype } = latent;
    if (dtype !== 'float32' && dtype !== 'float16') fail('LATENT_SHAPE', `a GPU latent's dtype must be 'float32' or 'float16', got ${String(dtype)}`);
    const shape = checkLatentShape(latent.shape, this.model);
    const bytes = shape.values * (dtype === 'float16' ? 2 : 4);
    if (!(buffer.usage & GPUBufferUsage.STORAGE)) fail('BAD_OPTION', 'a GPU latent buffer needs STORAGE usage');
    if (buffer.size < bytes) fail('LATENT_SHAPE', `GPU latent buffer has ${buffer.size} bytes; ${dtype} ${shape.shown} needs ${bytes}`);
    return { buffer, f16: dtype === 'float16', packed: shape.packed, batch: shape.batch, height: shape.height, width: shape.width };
  }

  /** Writes the latent (CPU) or binds it (GPU) and encodes the input kernel. */
  private encodeInput(plan: Plan, encoder: GPUCommandEncoder, latent: Latent | GpuLatent, space: LatentSpace): void {
    const { latentIn } = plan;
    let latentBuffer: GPUBuffer;
    const [scale, shift] = space === 'vae' ? [this.model.latent.scaleFactor, this.model.latent.shiftFactor] : [1, 0];
    const dims = LATENT_DIMS.write({ w: plan.latentW, h: plan.latentH, scale, shift });
    this.device.queue.writeBuffer(latentIn.dims.buffer, latentIn.dims.offset ?? 0, dims);
    if ('buffer' in latent) latentBuffer = latent.buffer;
    else {
      latentBuffer = plan.latentBuffer!;
      this.device.queue.writeBuffer(latentBuffer, 0, latent.data.buffer as ArrayBuffer, latent.data.byteOffset, latent.data.byteLength);
    }
    // A caller's buffer can change every step, so this one bind group is made per decode.
    encodeDispatches(encoder, [pipelineDispatch(this.device, latentIn.pipeline, [latentIn.dims, { buffer: latentBuffer }, { buffer: latentIn.dst }], latentIn.workgroups)], 'taesd input');
  }

  private async draw({ plan, encoder }: { plan: Plan; encoder: GPUCommandEncoder }, target: () => GPUTexture): Promise<Size> {
    const pipeline = await kernelPipeline(this.device, 'rgbaTexture', imageParams(plan.program));
    // From here to the submit, nothing awaits: a canvas's current texture expires when the task ends.
    const texture = target();
    if (texture.width !== plan.width || texture.height !== plan.height || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${plan.width}x${plan.height}`);
    }
    // The bind group names this frame's texture, so it is the one object made per call.
    const workgroups = [Math.ceil(plan.width / WG_2D), Math.ceil(plan.height / WG_2D), 1] as const;
    const resources = [plan.textureDims, { buffer: plan.outputBuffer }, texture.createView(), { buffer: plan.nonFinite }];
    encodeDispatches(encoder, [pipelineDispatch(this.device, pipeline, resources, workgroups)], 'taesd to texture');
    // Resolves when the frame is done (the count's map waits for it): a sampler loop gets backpressure.
    this.checkOutput(await this.readNonFinite(plan, encoder));
    return { width: plan.width, height: plan.height };
  }

  /** Submits `encoder` and reads back the output kernel's count of non-finite values. */
  private async readNonFinite(plan: Plan, encoder: GPUCommandEncoder): Promise<number> {
    const out = await this.gpu.readback(encoder, this.staging(plan, 4), [{ src: plan.nonFinite, offset: 0, bytes: 4 }]);
    return new Uint32Array(out)[0]!;
  }

  /** The plan's MAP_READ buffer, grown to `bytes`. */
  private staging(plan: Plan, bytes: number): GPUBuffer {
    if (!plan.staging || plan.staging.size < bytes) {
      plan.staging?.destroy();
      plan.staging = this.device.createBuffer({ label: `taesd readback ${plan.key}`, size: Math.ceil(bytes / 4) * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    return plan.staging;
  }
}
