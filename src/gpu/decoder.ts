import { fail } from '../errors.js';
import { isGpuLatent, type AnyLatentInput, type DecodeOptions, type GpuLatentInput, type LatentDecoder, type LatentSpace, type RawImage, type RgbaImage } from '../model/decoder.js';
import { lowerDecoder, skipForScale } from '../model/graph.js';
import { checkLatentShape, expectSingle, prepareLatent, type Latent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';
import { canvasTexture } from './canvas.js';
import { convPipeline, convVariant, DEFAULT_CONV, type ConvVariant, type Precision } from './conv.js';
import { deviceAdapterInfo, isFallbackAdapter } from './device.js';
import { encodeDispatches, kernelPipeline, pipelineDispatch, type KernelParams } from './kernels.js';
import { buildProgram, type ConvStep, type Program } from './program.js';
import { convShape, dispatchSpecs, latentParams, makePlan, WG_2D, type LatentSource, type Plan } from './plan.js';
import { scheduleDecode, type Schedule } from './schedule.js';
import { processStore, tuneConv, type KernelChoice, type TuningStore } from './tune.js';

/** Default cap on one buffer: bands keep a 4096x4096 decode to a few buffers of this size. */
const DEFAULT_MAX_BUFFER_BYTES = 256 << 20;

export type { Precision };

export interface WebGpuDecoderOptions {
  /** `'f16'` stores activations as f16 (accumulating in f32) when the device has `shader-f16`; default `'f32'`. */
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

/** The kernel one conv layer runs with, for `kernels`. */
export interface LayerKernel {
  /** The layer's state-dict key (e.g. `12` or `3.conv.2`). */
  readonly layer: string;
  readonly variant: string;
  /** ms per dispatch of each candidate on a sample of this layer's size, when it was tuned. */
  readonly timings: Readonly<Record<string, number>>;
}

export class WebGpuDecoder implements LatentDecoder {
  readonly backend = 'webgpu' as const;
  readonly model: ModelSpec;
  readonly precision: Precision;
  private readonly weights: DecoderWeights;
  /** The GPU program per number of skipped upsamples (1 = full decode, others on demand). */
  private readonly programs = new Map<number, Program>();
  /** Packed weights per conv step and weight layout, uploaded on first use. */
  private readonly weightBuffers = new Map<ConvStep, Map<string, GPUBuffer>>();
  private readonly maxBytes: number;
  private readonly latentSpace: LatentSpace;
  private readonly ownsDevice: boolean;
  private readonly convKernel: string;
  private readonly store: TuningStore;
  /** The kernel chosen per conv shape (JSON of the ConvShape), made once per decoder. */
  private readonly choices = new Map<string, Promise<KernelChoice>>();
  /** Layer key -> kernel, for the last plan. */
  private layerKernels: LayerKernel[] = [];
  private plans: Plan[] = [];
  private bands = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private lost: string | null = null;
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    weights: DecoderWeights,
    options: WebGpuDecoderOptions = {},
  ) {
    this.model = weights.model;
    this.weights = weights;
    const f16 = options.precision === 'f16';
    if (f16 && !device.features.has('shader-f16')) fail('BAD_OPTION', "precision 'f16' needs a device with the shader-f16 feature");
    this.precision = f16 ? 'f16' : 'f32';
    this.latentSpace = options.latentSpace ?? 'model';
    this.ownsDevice = options.ownsDevice ?? false;
    this.store = options.store ?? processStore;
    const info = deviceAdapterInfo(device);
    const emulated = info !== null && isFallbackAdapter(info);
    const kernel = options.convKernel ?? 'auto';
    this.convKernel = kernel === 'auto' ? (emulated ? 'default' : 'tune') : kernel;
    if (!['tune', 'default'].includes(this.convKernel)) convVariant(this.convKernel);
    const cap = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    if (!(Number.isFinite(cap) && cap >= 1 << 16)) fail('BAD_OPTION', `maxBufferBytes must be a number >= 64 KiB, got ${String(options.maxBufferBytes)}`);
    this.maxBytes = Math.min(cap, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.program(0);
    void device.lost.then((info) => { this.lost = info.message || info.reason || 'unknown reason'; });
  }

  /** How many row bands the last decode ran in (1 = unbanded; 0 before the first). */
  get lastBandCount(): number {
    return this.bands;
  }

  /** The conv kernel each layer of the last decode ran with (tuned per adapter and layer shape). */
  get kernels(): readonly LayerKernel[] {
    return this.layerKernels;
  }

  async decode(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    expectSingle(latent);
    return (await this.decodeBatch(latent, options))[0]!;
  }

  async decodeRaw(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage> {
    expectSingle(latent);
    return (await this.decodeRawBatch(latent, options))[0]!;
  }

  decodeBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage[]> {
    return this.run(latent, options, async (plan, encoder) => {
      encodeDispatches(encoder, [plan.rgbaDispatch]);
      const pixels = plan.width * plan.height;
      const bytes = await this.readback(plan, encoder, plan.rgbaBuffer, plan.batch * pixels * 4);
      return Array.from({ length: plan.batch }, (_, i) => ({ width: plan.width, height: plan.height, data: new Uint8ClampedArray(bytes, i * pixels * 4, pixels * 4) }));
    });
  }

  decodeRawBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage[]> {
    return this.run(latent, options, async (plan, encoder) => {
      const pixels = plan.width * plan.height;
      const rgbx = new Float32Array(await this.readback(plan, encoder, plan.outputBuffer, plan.batch * pixels * 16, plan.program.zeroVec4s * 16));
      return Array.from({ length: plan.batch }, (_, item) => {
        const data = new Float32Array(3 * pixels);
        for (let i = 0, at = item * pixels * 4; i < pixels; i++, at += 4) {
          data[i] = rgbx[at]!;
          data[pixels + i] = rgbx[at + 1]!;
          data[2 * pixels + i] = rgbx[at + 2]!;
        }
        return { width: plan.width, height: plan.height, data };
      });
    });
  }

  /**
   * Decodes into a texture on this decoder's device with no CPU readback: an `rgba8unorm` texture
   * with `STORAGE_BINDING` usage, of the image's size. Resolves, with the image size, once the GPU
   * has finished the frame.
   */
  decodeToTexture(latent: AnyLatentInput, texture: GPUTexture, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    expectSingle(latent);
    return this.run(latent, options, (plan, encoder) => this.draw(plan, encoder, () => texture));
  }

  /**
   * Decodes straight into a WebGPU canvas (configured here for this device, `rgba8unorm`,
   * storage usage; its size set to the image's): the live-preview path. The canvas is resized and
   * its texture taken when this decode's turn comes, so overlapping calls draw in order.
   */
  decodeToCanvas(latent: AnyLatentInput, context: GPUCanvasContext, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    expectSingle(latent);
    return this.run(latent, options, (plan, encoder) => this.draw(plan, encoder, () => canvasTexture(context, this.device, plan.width, plan.height)));
  }

  /**
   * Decodes into a buffer the caller owns on this device, with no CPU readback: 8-bit RGBA, one
   * u32 per pixel, row-major, the items of a batch one after another, from byte 0. The buffer
   * needs `COPY_DST` usage and room for `N * width * height * 4` bytes. Resolves, with the image
   * size, once the GPU has finished.
   */
  decodeToBuffer(latent: AnyLatentInput, buffer: GPUBuffer, options?: DecodeOptions): Promise<{ width: number; height: number; batch: number }> {
    return this.run(latent, options, async (plan, encoder) => {
      const bytes = plan.batch * plan.width * plan.height * 4;
      if (buffer.size < bytes || !(buffer.usage & GPUBufferUsage.COPY_DST)) fail('BAD_OPTION', `target buffer has ${buffer.size} bytes${buffer.usage & GPUBufferUsage.COPY_DST ? '' : ' and no COPY_DST usage'}; need COPY_DST and ${bytes} bytes`);
      encodeDispatches(encoder, [plan.rgbaDispatch]);
      encoder.copyBufferToBuffer(plan.rgbaBuffer, 0, buffer, 0, bytes);
      await this.submit(encoder, () => this.device.queue.onSubmittedWorkDone());
      return { width: plan.width, height: plan.height, batch: plan.batch };
    });
  }

  private async draw(plan: Plan, encoder: GPUCommandEncoder, target: () => GPUTexture): Promise<{ width: number; height: number }> {
    const params = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: plan.program.zeroVec4s };
    const pipeline = await kernelPipeline(this.device, 'rgbaTexture', params);
    // From here to the submit, nothing awaits: a canvas's current texture expires when the task ends.
    const texture = target();
    if (texture.width !== plan.width || texture.height !== plan.height || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${plan.width}x${plan.height}`);
    }
    // The bind group names this frame's texture, so it is the one object made per call.
    const workgroups = [Math.ceil(plan.width / WG_2D), Math.ceil(plan.height / WG_2D), 1] as const;
    encodeDispatches(encoder, [pipelineDispatch(this.device, pipeline, [plan.textureDims, { buffer: plan.outputBuffer }, texture.createView()], workgroups)], 'taesd to texture');
    // Resolve when the frame is done, not when it is queued: a sampler loop gets backpressure.
    await this.submit(encoder, async () => {
      await this.device.queue.onSubmittedWorkDone();
      // On a lost device the work "completes" and the scopes pop clean; `lost` resolves next.
      await this.isLost(0);
    });
    return { width: plan.width, height: plan.height };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const plan of this.plans) this.destroyPlan(plan);
    this.plans = [];
    for (const variants of this.weightBuffers.values()) for (const b of variants.values()) b.destroy();
    this.weightBuffers.clear();
    if (this.ownsDevice) this.device.destroy();
  }

  private program(skip: number): Program {
    let program = this.programs.get(skip);
    if (!program) this.programs.set(skip, (program = buildProgram(lowerDecoder(this.weights, { skipUpsamples: skip }))));
    return program;
  }

  /** Runs decodes one at a time: they share a plan's buffers and staging buffer. */
  private run<T>(latent: AnyLatentInput, options: DecodeOptions | undefined, finish: (plan: Plan, encoder: GPUCommandEncoder) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      // Lost before destroyed: a decode queued behind a device loss must be told to recover.
      if (this.lost !== null) fail('DEVICE_LOST', `WebGPU device lost: ${this.lost}`);
      if (this.destroyed) fail('DESTROYED', 'decoder was destroyed');
      const skip = skipForScale(this.weights, options?.scale);
      const space = options?.latentSpace ?? this.latentSpace;
      if (space !== 'model' && space !== 'vae') fail('BAD_OPTION', `latentSpace must be 'model' or 'vae', got ${String(space)}`);
      const input = isGpuLatent(latent) ? this.gpuLatent(latent) : prepareLatent(latent, this.model, space);
      const source: LatentSource = 'buffer' in input ? { gpu: true, f16: input.f16, packed: input.packed } : { gpu: false, f16: false, packed: false };
      const plan = await this.plan(skip, source, input.batch, input.height, input.width);
      const encoder = this.device.createCommandEncoder({ label: 'taesd decode' });
      this.encodeInput(plan, encoder, input, space);
      encodeDispatches(encoder, plan.dispatches);
      this.bands = plan.bandCount;
      return finish(plan, encoder);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Checks a GPU-resident latent's shape, type and buffer against the model. */
  private gpuLatent(latent: GpuLatentInput): { buffer: GPUBuffer; f16: boolean; packed: boolean; batch: number; height: number; width: number } {
    const { buffer, dtype } = latent;
    if (dtype !== 'float32' && dtype !== 'float16') fail('LATENT_SHAPE', `a GPU latent's dtype must be 'float32' or 'float16', got ${String(dtype)}`);
    const shape = checkLatentShape(latent.shape, this.model);
    const bytes = shape.values * (dtype === 'float16' ? 2 : 4);
    if (!(buffer.usage & GPUBufferUsage.STORAGE)) fail('BAD_OPTION', 'a GPU latent buffer needs STORAGE usage');
    if (buffer.size < bytes) fail('LATENT_SHAPE', `GPU latent buffer has ${buffer.size} bytes; ${dtype} ${shape.shown} needs ${bytes}`);
    return { buffer, f16: dtype === 'float16', packed: shape.packed, batch: shape.batch, height: shape.height, width: shape.width };
  }

  /** Writes the latent (CPU) or binds it (GPU) and encodes the input kernel. */
  private encodeInput(plan: Plan, encoder: GPUCommandEncoder, input: Latent | { buffer: GPUBuffer }, space: LatentSpace): void {
    const { latentIn } = plan;
    let latentBuffer: GPUBuffer;
    // CPU latents arrive prepared (unpacked, mapped); a GPU latent is mapped by the kernel.
    const [scale, shift] = 'buffer' in input && space === 'vae' ? [this.model.latent.scaleFactor, this.model.latent.shiftFactor] : [1, 0];
    const dims = new ArrayBuffer(32);
    new Uint32Array(dims, 0, 3).set([plan.latentW, plan.latentH, plan.batch]);
    new Float32Array(dims, 16, 2).set([scale, shift]);
    this.device.queue.writeBuffer(latentIn.dims.buffer, latentIn.dims.offset ?? 0, dims);
    if ('buffer' in input) latentBuffer = input.buffer;
    else {
      latentBuffer = plan.latentBuffer!;
      this.device.queue.writeBuffer(latentBuffer, 0, input.data.buffer as ArrayBuffer, input.data.byteOffset, input.data.byteLength);
    }
    // A caller's buffer can change every step, so this one bind group is made per decode.
    encodeDispatches(encoder, [pipelineDispatch(this.device, latentIn.pipeline, [latentIn.dims, { buffer: latentBuffer }, { buffer: latentIn.dst }], latentIn.workgroups)], 'taesd input');
  }

  private async submit(encoder: GPUCommandEncoder, after: () => Promise<void>): Promise<void> {
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    this.device.queue.submit([encoder.finish()]);
    const oom = this.device.popErrorScope();
    const invalid = this.device.popErrorScope();
    const scopes = Promise.all([oom, invalid]);
    scopes.catch(() => undefined); // awaited below; a lost device rejects it before then
    let errors: [GPUError | null, GPUError | null];
    try {
      await after();
      errors = await scopes;
    } catch (e) {
      // A lost device fails the map (or the error scopes) first and resolves `lost` a moment later.
      if (await this.isLost()) fail('DEVICE_LOST', `WebGPU device lost during decode: ${this.lost}`, e);
      fail('IO', `WebGPU decode failed: ${e instanceof Error ? e.message : String(e)}`, e);
    }
    this.checkScopes(errors, 'the decode');
  }

  /** Turns popped error scopes into the error a caller can act on: lost device, out of memory, or our bug. */
  private checkScopes([oom, invalid]: [GPUError | null, GPUError | null], what: string): void {
    if (this.lost !== null) fail('DEVICE_LOST', `WebGPU device lost during ${what}: ${this.lost}`);
    if (oom) fail('GPU_OUT_OF_MEMORY', `GPU out of memory in ${what}: ${oom.message}`);
    if (invalid) fail('INTERNAL', `WebGPU rejected ${what}: ${invalid.message}`);
  }

  /** Whether the device is lost, waiting up to `waitMs` for `device.lost` to resolve. */
  private async isLost(waitMs = 200): Promise<boolean> {
    if (this.lost === null) await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, waitMs))]);
    return this.lost !== null;
  }

  private async readback(plan: Plan, encoder: GPUCommandEncoder, src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    if (!plan.staging || plan.staging.size < bytes) {
      plan.staging?.destroy();
      plan.staging = this.device.createBuffer({ label: `taesd readback ${plan.key}`, size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const staging = plan.staging;
    encoder.copyBufferToBuffer(src, offset, staging, 0, bytes);
    let out!: ArrayBuffer;
    await this.submit(encoder, async () => {
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      out = staging.getMappedRange(0, bytes).slice(0);
      staging.unmap();
    });
    return out;
  }

  /** The weights of `step` in `variant`'s layout, uploaded once per layout. */
  private weightsFor(step: ConvStep, variant: ConvVariant): GPUBuffer {
    let variants = this.weightBuffers.get(step);
    if (!variants) this.weightBuffers.set(step, (variants = new Map()));
    let buffer = variants.get(variant.packing);
    if (!buffer) {
      const data = variant.pack(step.conv, step.norm);
      buffer = this.device.createBuffer({ label: `taesd weights ${step.conv.key} ${variant.packing}`, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      variants.set(variant.packing, buffer);
    }
    return buffer;
  }

  private async plan(skip: number, source: LatentSource, n: number, h: number, w: number): Promise<Plan> {
    const key = `${skip}:${source.gpu ? `gpu-${source.f16 ? 'f16' : 'f32'}${source.packed ? '-packed' : ''}` : 'cpu'}:${n}x${h}x${w}`;
    const found = this.plans.find((p) => p.key === key);
    if (found) {
      this.plans = [found, ...this.plans.filter((p) => p !== found)];
      return found;
    }
    const program = this.program(skip);
    const sched = scheduleDecode(program, n, h, w, this.precision === 'f16' ? 8 : 16, this.maxBytes);
    const kernels = await this.chooseKernels(program, sched, h, w);
    const specs = dispatchSpecs(program, sched, this.precision, n, h, w, kernels);
    const latentKernel = latentParams(program, source, this.precision);
    const imageParams: KernelParams = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: program.zeroVec4s };
    // Compile first (the only await), so every GPU object below is made in one synchronous
    // stretch: the error scopes around it catch this library's calls and none of the caller's.
    await Promise.all([
      ...specs.map((s) => (s.conv ? convPipeline(this.device, s.conv.variant, s.params) : kernelPipeline(this.device, s.kernel, s.params))),
      kernelPipeline(this.device, 'latentIn', latentKernel),
      kernelPipeline(this.device, 'rgbaOut', imageParams),
    ]);
    if (this.lost !== null) fail('DEVICE_LOST', `WebGPU device lost: ${this.lost}`);
    const buffers: GPUBuffer[] = [];
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let plan: Plan | null = null, failure: unknown = null;
    try {
      plan = makePlan(this.device, key, program, sched, specs, latentKernel, imageParams, source, n, h, w, (step, variant) => this.weightsFor(step, variant), buffers);
    } catch (e) {
      failure = e;
    }
    const scopes = Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]);
    const [oom, invalid] = await scopes.catch(() => [null, null] as const);
    // A plan whose buffers could not be made is freed and never cached, so the next call retries.
    if (failure || oom || invalid) {
      for (const b of buffers) b.destroy();
      if (failure) throw failure;
      this.checkScopes([oom, invalid], `allocating the GPU buffers for ${n > 1 ? `${n} latents` : 'a latent'} of ${h}x${w}`);
    }
    this.plans.unshift(plan!);
    // Samplers decode one size over and over; keep the last two sizes' buffers.
    for (const old of this.plans.splice(2)) this.destroyPlan(old);
    return plan!;
  }

  private destroyPlan(plan: Plan): void {
    for (const b of plan.buffers) b.destroy();
    plan.staging?.destroy();
  }

  /**
   * The variant each conv step runs with: the forced one (where it accepts the shape), the default,
   * or the fastest the tuner measured for the shape on this adapter (once per decoder and shape).
   */
  private async chooseKernels(program: Program, sched: Schedule, h: number, w: number): Promise<Map<ConvStep, ConvVariant>> {
    const chosen = new Map<ConvStep, ConvVariant>();
    const layers: LayerKernel[] = [];
    for (const { step, rows } of sched.steps) {
      if (step.kind !== 'conv' || chosen.has(step)) continue;
      const shape = convShape(program, step, this.precision);
      let choice: KernelChoice = { variant: DEFAULT_CONV.id, timings: {} };
      if (this.convKernel === 'tune') {
        const key = JSON.stringify(shape);
        if (!this.choices.has(key)) this.choices.set(key, tuneConv(this.device, shape, w << step.dst.level, Math.min(rows.hi - rows.lo, h << step.dst.level), this.store));
        choice = await this.choices.get(key)!;
      } else if (this.convKernel !== 'default') {
        choice = { variant: this.convKernel, timings: {} };
      }
      // A forced or remembered kernel that cannot run this shape gives way to the default.
      const forced = convVariant(choice.variant);
      const variant = forced.refuses(shape) === null ? forced : DEFAULT_CONV;
      chosen.set(step, variant);
      layers.push({ layer: step.conv.key, variant: variant.id, timings: choice.timings });
    }
    this.layerKernels = layers;
    return chosen;
  }


}
