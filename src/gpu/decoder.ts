import { fail } from '../errors.js';
import type { DecodeOptions, LatentDecoder, LatentInput, LatentSpace, RawImage, RgbaImage } from '../model/decoder.js';
import { lowerDecoder } from '../model/graph.js';
import { prepareLatent } from '../model/latent.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';
import { canvasTexture } from './canvas.js';
import { checkConv, convDimsData, convDispatch, DEFAULT_CONV, type ConvDims, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import { encodeDispatches, kernelDispatch, kernelPipeline, type Dispatch, type KernelParams } from './kernels.js';
import { buildProgram, type Activation, type ConvStep, type Program } from './program.js';
import { scheduleDecode, type Instance } from './schedule.js';

const UNIFORM_STRIDE = 256;
/** Default cap on one buffer: bands keep a 4096x4096 decode to a few buffers of this size. */
const DEFAULT_MAX_BUFFER_BYTES = 256 << 20;
const WG_1D = 64;
const WG_2D = 8;
const GN_WG = 256;

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
}

/** Everything a decode of one latent size needs, made once and reused by later decodes of that size. */
interface Plan {
  readonly key: string;
  readonly width: number;
  readonly height: number;
  readonly latentBuffer: GPUBuffer;
  readonly outputBuffer: GPUBuffer;
  readonly rgbaBuffer: GPUBuffer;
  readonly dispatches: readonly Dispatch[];
  readonly rgbaDispatch: Dispatch;
  /** The image size for the texture kernel, in the plan's uniform buffer. */
  readonly textureDims: GPUBufferBinding;
  readonly buffers: readonly GPUBuffer[];
  readonly bandCount: number;
  staging?: GPUBuffer;
}

export class WebGpuDecoder implements LatentDecoder {
  readonly backend = 'webgpu' as const;
  readonly model: ModelSpec;
  readonly precision: Precision;
  private readonly program: Program;
  /** Packed weights per conv step and kernel variant, uploaded on first use. */
  private readonly weightBuffers = new Map<ConvStep, Map<string, GPUBuffer>>();
  private readonly maxBytes: number;
  private readonly latentSpace: LatentSpace;
  private plans: Plan[] = [];
  private bands = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private lost: string | null = null;
  private destroyed = false;
  private readonly ownsDevice: boolean;

  constructor(
    readonly device: GPUDevice,
    weights: DecoderWeights,
    options: WebGpuDecoderOptions = {},
  ) {
    this.model = weights.model;
    const f16 = options.precision === 'f16';
    if (f16 && !device.features.has('shader-f16')) fail('BAD_OPTION', "precision 'f16' needs a device with the shader-f16 feature");
    this.precision = f16 ? 'f16' : 'f32';
    this.latentSpace = options.latentSpace ?? 'model';
    this.ownsDevice = options.ownsDevice ?? false;
    const cap = options.maxBufferBytes ?? DEFAULT_MAX_BUFFER_BYTES;
    if (!(Number.isFinite(cap) && cap >= 1 << 16)) fail('BAD_OPTION', `maxBufferBytes must be a number >= 64 KiB, got ${String(options.maxBufferBytes)}`);
    this.maxBytes = Math.min(cap, device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    this.program = buildProgram(lowerDecoder(weights));
    void device.lost.then((info) => { this.lost = info.message || info.reason || 'unknown reason'; });
  }

  /** How many row bands the last decode ran in (1 = unbanded; 0 before the first). */
  get lastBandCount(): number {
    return this.bands;
  }

  decode(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    return this.run(latent, options, async (plan, encoder) => {
      encodeDispatches(encoder, [plan.rgbaDispatch]);
      const bytes = await this.readback(plan, encoder, plan.rgbaBuffer, plan.width * plan.height * 4);
      return { width: plan.width, height: plan.height, data: new Uint8ClampedArray(bytes) };
    });
  }

  decodeRaw(latent: LatentInput, options?: DecodeOptions): Promise<RawImage> {
    return this.run(latent, options, async (plan, encoder) => {
      const pixels = plan.width * plan.height;
      const bytes = await this.readback(plan, encoder, plan.outputBuffer, pixels * 16, this.program.zeroVec4s * 16);
      const rgbx = new Float32Array(bytes);
      const data = new Float32Array(3 * pixels);
      for (let i = 0; i < pixels; i++) {
        data[i] = rgbx[4 * i]!;
        data[pixels + i] = rgbx[4 * i + 1]!;
        data[2 * pixels + i] = rgbx[4 * i + 2]!;
      }
      return { width: plan.width, height: plan.height, data };
    });
  }

  /**
   * Decodes into a texture on this decoder's device with no CPU readback: an `rgba8unorm` texture
   * with `STORAGE_BINDING` usage, of the image's size. Resolves, with the image size, once the GPU
   * has finished the frame.
   */
  decodeToTexture(latent: LatentInput, texture: GPUTexture, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    return this.run(latent, options, (plan, encoder) => this.draw(plan, encoder, () => texture));
  }

  /**
   * Decodes straight into a WebGPU canvas (configured here for this device, `rgba8unorm`,
   * storage usage; its size set to the image's): the live-preview path. The canvas is resized and
   * its texture taken when this decode's turn comes, so overlapping calls draw in order.
   */
  decodeToCanvas(latent: LatentInput, context: GPUCanvasContext, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    return this.run(latent, options, (plan, encoder) => this.draw(plan, encoder, () => canvasTexture(context, this.device, plan.width, plan.height)));
  }

  private async draw(plan: Plan, encoder: GPUCommandEncoder, target: () => GPUTexture): Promise<{ width: number; height: number }> {
    const params = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: this.program.zeroVec4s };
    const pipeline = await kernelPipeline(this.device, 'rgbaTexture', params);
    // From here to the submit, nothing awaits: a canvas's current texture expires when the task ends.
    const texture = target();
    if (texture.width !== plan.width || texture.height !== plan.height || texture.format !== 'rgba8unorm') {
      fail('BAD_OPTION', `target texture is ${texture.format} ${texture.width}x${texture.height}; need rgba8unorm ${plan.width}x${plan.height}`);
    }
    // The bind group names this frame's texture, so it is the one object made per call.
    const bindGroup = this.device.createBindGroup({
      label: 'taesd to texture',
      layout: pipeline.getBindGroupLayout(0),
      entries: [plan.textureDims, { buffer: plan.outputBuffer }, texture.createView()].map((resource, binding) => ({ binding, resource })),
    });
    encodeDispatches(encoder, [{ pipeline, bindGroup, workgroups: [Math.ceil(plan.width / WG_2D), Math.ceil(plan.height / WG_2D), 1] }], 'taesd to texture');
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

  /** Runs decodes one at a time: they share a plan's buffers and staging buffer. */
  private run<T>(latent: LatentInput, options: DecodeOptions | undefined, finish: (plan: Plan, encoder: GPUCommandEncoder) => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      // Lost before destroyed: a decode queued behind a device loss must be told to recover.
      if (this.lost !== null) fail('DEVICE_LOST', `WebGPU device lost: ${this.lost}`);
      if (this.destroyed) fail('DESTROYED', 'decoder was destroyed');
      const prepared = prepareLatent(latent, this.model, options?.latentSpace ?? this.latentSpace);
      const plan = await this.plan(prepared.height, prepared.width);
      this.device.queue.writeBuffer(plan.latentBuffer, 0, prepared.data.buffer as ArrayBuffer, prepared.data.byteOffset, prepared.data.byteLength);
      const encoder = this.device.createCommandEncoder({ label: 'taesd decode' });
      encodeDispatches(encoder, plan.dispatches);
      this.bands = plan.bandCount;
      return finish(plan, encoder);
    });
    this.queue = result.catch(() => undefined);
    return result;
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

  /** The weights of `step` as `variant` packs them, uploaded once. */
  private weightsFor(step: ConvStep, variant: ConvVariant): GPUBuffer {
    let variants = this.weightBuffers.get(step);
    if (!variants) this.weightBuffers.set(step, (variants = new Map()));
    let buffer = variants.get(variant.id);
    if (!buffer) {
      const data = variant.pack(step.conv, step.norm);
      buffer = this.device.createBuffer({ label: `taesd weights ${step.conv.key} ${variant.id}`, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      variants.set(variant.id, buffer);
    }
    return buffer;
  }

  private async plan(h: number, w: number): Promise<Plan> {
    const key = `${h}x${w}`;
    const found = this.plans.find((p) => p.key === key);
    if (found) {
      this.plans = [found, ...this.plans.filter((p) => p !== found)];
      return found;
    }
    // A plan whose buffers could not be made is freed and never cached, so the next call retries.
    this.device.pushErrorScope('validation');
    this.device.pushErrorScope('out-of-memory');
    let made: { plan?: Plan; buffers: GPUBuffer[] } = { buffers: [] };
    let failure: unknown = null;
    try {
      made = await this.makePlan(h, w, made.buffers);
    } catch (e) {
      failure = e;
    }
    const oom = await this.device.popErrorScope().catch(() => null);
    const invalid = await this.device.popErrorScope().catch(() => null);
    if (failure || oom || invalid || !made.plan) {
      for (const b of made.buffers) b.destroy();
      if (failure) throw failure;
      this.checkScopes([oom, invalid], `allocating the GPU buffers for a ${h}x${w} latent`);
    }
    const plan = made.plan!;
    this.plans.unshift(plan);
    // Samplers decode one size over and over; keep the last two sizes' buffers.
    for (const old of this.plans.splice(2)) this.destroyPlan(old);
    return plan;
  }

  private destroyPlan(plan: Plan): void {
    for (const b of plan.buffers) b.destroy();
    plan.staging?.destroy();
  }

  /** Buffers, uniforms and dispatches of a decode of an h x w latent; `buffers` collects what it made, for cleanup. */
  private async makePlan(h: number, w: number, buffers: GPUBuffer[]): Promise<{ plan: Plan; buffers: GPUBuffer[] }> {
    const { program } = this;
    const u = program.graph.upscale;
    const H = h * u, W = w * u;
    const zero = program.zeroVec4s;
    const sched = scheduleDecode(program, h, w, this.precision === 'f16' ? 8 : 16, this.maxBytes);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const create = (label: string, size: number, use = usage) => {
      const b = this.device.createBuffer({ label: `taesd ${h}x${w} ${label}`, size: Math.ceil(size / 16) * 16, usage: use });
      buffers.push(b);
      return b;
    };
    const slotBuffers = sched.slots.map((bytes, i) => create(`activations ${i}`, bytes));
    const latentBuffer = create('latent', program.graph.input.channels * 4 * h * w);
    const outputBuffer = create('output', sched.outputBytes);
    const rgbaBuffer = create('rgba', H * W * 4);
    const inputAct = create('input', sched.input.bytes);
    const bufferOf = (inst: Instance) => (inst === sched.input ? inputAct : inst.act === program.output ? outputBuffer : slotBuffers[inst.slot]!);
    const row0Of = (inst: Instance) => (inst.act === program.output ? 0 : inst.row0);

    // Uniform slots: the input kernel, each step, the RGBA kernel, the texture kernel.
    const count = sched.steps.length + 3;
    const uniforms = new ArrayBuffer(count * UNIFORM_STRIDE);
    const uniformBuffer = create('dims', uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const dims = (i: number, values: number[]) => new Int32Array(uniforms, i * UNIFORM_STRIDE, values.length).set(values);
    const uniform = (i: number, size: number): GPUBufferBinding => ({ buffer: uniformBuffer, offset: i * UNIFORM_STRIDE, size });
    const act4 = { type: this.precision === 'f16' ? 'vec4<f16>' : 'vec4<f32>' };
    const pending: Promise<Dispatch>[] = [];

    const latentBlocks = program.latent.channelBlocks;
    dims(0, [w, h, 0, 0]);
    pending.push(kernelDispatch(this.device, 'latentIn', { WG: WG_1D, CHANNEL_BLOCKS: latentBlocks, ZERO_VEC4S: zero, act4 },
      [uniform(0, 16), { buffer: latentBuffer }, { buffer: inputAct }], [Math.ceil((w * latentBlocks) / WG_1D), h, 1]));

    sched.steps.forEach(({ step, rows, band }, idx) => {
      const i = idx + 1;
      const inst = (a: Activation) => sched.instance(a, band);
      const src = inst(step.src), dst = inst(step.dst);
      if (step.kind === 'stats') {
        const params: KernelParams = { WG: GN_WG, CHANNEL_BLOCKS: step.src.channelBlocks, GROUP_BLOCKS: step.src.channelBlocks / step.groups, EPS: step.eps, ZERO_VEC4S: zero, act4 };
        dims(i, [src.rows * src.width, 0, 0, 0]);
        pending.push(kernelDispatch(this.device, 'groupNormStats', params, [uniform(i, 16), { buffer: bufferOf(src) }, { buffer: bufferOf(dst) }], [step.groups, 1, 1]));
        return;
      }
      const shape: ConvShape = {
        k: step.conv.k, cinBlocks: step.src.channelBlocks, coutBlocks: step.dst.channelBlocks,
        upsample: step.upsample, relu: step.relu, residual: step.skip !== null, normGroups: step.norm?.groups ?? 0,
        precision: this.precision, outputF32: step.dst === program.output, zeroVec4s: zero,
      };
      const variant = DEFAULT_CONV;
      const label = `taesd conv ${step.conv.key}`;
      checkConv(variant, shape, label);
      const weights = this.weightsFor(step, variant);
      const skip = step.skip ? inst(step.skip) : null;
      const stats = step.stats ? inst(step.stats) : null;
      const d: ConvDims = {
        inW: src.width, inRow0: row0Of(src), outW: w << step.dst.level, outH: h << step.dst.level,
        outRow0: rows.lo, outRows: rows.hi - rows.lo, dstRow0: row0Of(dst), skipRow0: skip ? row0Of(skip) : 0,
      };
      new Int32Array(uniforms, i * UNIFORM_STRIDE, 8).set(convDimsData(d));
      pending.push(convDispatch(this.device, label, variant, variant.params(shape), d, {
        dims: uniform(i, 32), src: bufferOf(src), weights,
        skip: skip ? bufferOf(skip) : undefined, stats: stats ? bufferOf(stats) : undefined, dst: bufferOf(dst),
      }));
    });

    const imageParams: KernelParams = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: zero };
    const imageWorkgroups = [Math.ceil(W / WG_2D), Math.ceil(H / WG_2D), 1] as const;
    dims(count - 2, [W, H, 0, 0]);
    const rgbaDispatch = kernelDispatch(this.device, 'rgbaOut', imageParams, [uniform(count - 2, 16), { buffer: outputBuffer }, { buffer: rgbaBuffer }], imageWorkgroups);
    dims(count - 1, [W, H, 0, 0]);
    this.device.queue.writeBuffer(uniformBuffer, 0, uniforms);
    const plan: Plan = {
      key: `${h}x${w}`, width: W, height: H, latentBuffer, outputBuffer, rgbaBuffer,
      dispatches: await Promise.all(pending), rgbaDispatch: await rgbaDispatch, textureDims: uniform(count - 1, 16),
      buffers, bandCount: sched.bandCount,
    };
    return { plan, buffers };
  }
}
