// The planner of one WebGPU decoder: programs per output scale, the conv kernel per layer shape
// (forced, default or tuned), packed weights uploaded once, and plans (every buffer, uniform and
// bind group of a decode of one size) cached for the last two sizes.
import { fail } from '../errors.js';
import type { LayerKernel } from '../model/decoderTypes.js';
import { lowerDecoder } from '../model/graph.js';
import type { DecoderWeights } from '../model/weights.js';
import { act4Bytes, convDimsData, convDispatch, convPipeline, convShapeKey, convVariant, DEFAULT_CONV, type ConvVariant, type Precision } from './conv.js';
import { compiledPipeline, kernelPipeline, pipelineDispatch, type KernelParams } from './kernels.js';
import { convShape, dispatchSpecs, latentParams, planKey, WG_1D, WG_2D, type DispatchSpec, type Plan, type PlanRequest } from './plan.js';
import { buildProgram, type ConvStep, type Program } from './program.js';
import { scheduleDecode, type Instance, type Schedule } from './schedule.js';
import type { GpuSubmitter } from './submit.js';
import { tuneConv, type KernelChoice, type TuningStore } from './tune.js';
import { IMAGE_DIMS, LATENT_DIMS, STATS_DIMS } from './uniforms.js';

/** Bytes between uniform slots (WebGPU's minUniformBufferOffsetAlignment at its largest). */
const UNIFORM_STRIDE = 256;

export interface PlannerOptions {
  readonly precision: Precision;
  /** Largest buffer to allocate, in bytes. */
  readonly maxBytes: number;
  /** `'tune'`, `'default'`, or a variant id. */
  readonly convKernel: string;
  readonly store: TuningStore;
}

/** The RGBA kernels' parameters (output f32 in the shared layout). */
export const imageParams = (program: Program): KernelParams => ({ WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: program.zeroVec4s });

export class Planner {
  /** The GPU program per number of skipped upsamples (0 = full decode, others on demand). */
  private readonly programs = new Map<number, Program>();
  /** Packed weights per conv step and packing function, uploaded on first use. */
  private readonly weightBuffers = new Map<ConvStep, Map<ConvVariant['pack'], GPUBuffer>>();
  /** The kernel chosen per conv shape (convShapeKey), made once per decoder. */
  private readonly choices = new Map<string, Promise<KernelChoice>>();
  private plans: Plan[] = [];
  private layers: readonly LayerKernel[] = [];

  constructor(
    private readonly gpu: GpuSubmitter,
    private readonly weights: DecoderWeights,
    private readonly options: PlannerOptions,
  ) {
    this.program(0);
  }

  /** The conv kernel each layer of the most recent plan runs with. */
  get kernels(): readonly LayerKernel[] {
    return this.layers;
  }

  program(skip: number): Program {
    let program = this.programs.get(skip);
    if (!program) this.programs.set(skip, (program = buildProgram(lowerDecoder(this.weights, { skipUpsamples: skip }))));
    return program;
  }

  /** The plan of a request: cached, else compiled (the one await) and then made in one synchronous, scoped stretch. */
  async plan(request: PlanRequest): Promise<Plan> {
    const key = planKey(request);
    const found = this.plans.find((p) => p.key === key);
    if (found) {
      this.plans = [found, ...this.plans.filter((p) => p !== found)];
      this.layers = found.layers;
      return found;
    }
    const { batch: n, height: h, width: w } = request;
    const program = this.program(request.skip);
    const sched = scheduleDecode(program, n, h, w, act4Bytes(this.options.precision), this.options.maxBytes);
    const { kernels, layers } = await this.chooseKernels(program, sched, h, w);
    const specs = dispatchSpecs(program, sched, this.options.precision, n, h, w, kernels);
    for (const s of specs) checkWorkgroups(this.gpu.device, s.workgroups, s.kernel);
    const latentKernel = latentParams(program, request.source, this.options.precision);
    await Promise.all([
      ...specs.map((s) => (s.conv ? convPipeline(this.gpu.device, s.conv.variant, s.params) : kernelPipeline(this.gpu.device, s.kernel, s.params))),
      kernelPipeline(this.gpu.device, 'latentIn', latentKernel),
      kernelPipeline(this.gpu.device, 'rgbaOut', imageParams(program)),
    ]);
    if (this.gpu.lostReason !== null) fail('DEVICE_LOST', `WebGPU device lost: ${this.gpu.lostReason}`);
    const buffers: GPUBuffer[] = [];
    // A plan whose buffers could not be made is freed and never cached, so the next call retries.
    const plan = await this.gpu.scoped(
      `allocating the GPU buffers for ${n > 1 ? `${n} latents` : 'a latent'} of ${h}x${w}`,
      () => this.build(key, request, program, sched, specs, latentKernel, layers, buffers),
      () => { for (const b of buffers) b.destroy(); },
    );
    this.plans.unshift(plan);
    // Samplers decode one size over and over; keep the last two sizes' buffers.
    for (const old of this.plans.splice(2)) destroyPlan(old);
    this.layers = layers;
    return plan;
  }

  destroy(): void {
    for (const plan of this.plans) destroyPlan(plan);
    this.plans = [];
    for (const packs of this.weightBuffers.values()) for (const b of packs.values()) b.destroy();
    this.weightBuffers.clear();
  }

  /**
   * The variant each conv step runs with: the forced one (where it accepts the shape), the default,
   * or the fastest the tuner measured for the shape on this adapter (once per decoder and shape).
   */
  private async chooseKernels(program: Program, sched: Schedule, h: number, w: number): Promise<{ kernels: Map<ConvStep, ConvVariant>; layers: LayerKernel[] }> {
    const chosen = new Map<ConvStep, ConvVariant>();
    const layers: LayerKernel[] = [];
    const { convKernel, precision, store } = this.options;
    for (const { step, rows } of sched.steps) {
      if (step.kind !== 'conv' || chosen.has(step)) continue;
      const shape = convShape(program, step, precision);
      let choice: KernelChoice = { variant: DEFAULT_CONV.id, timings: {} };
      if (convKernel === 'tune') {
        const key = convShapeKey(shape);
        if (!this.choices.has(key)) {
          const tuning = tuneConv(this.gpu, shape, w << step.dst.level, Math.min(rows.hi - rows.lo, h << step.dst.level), store);
          // A failed tuning is not remembered: the next decode of this shape tunes again.
          tuning.catch(() => this.choices.get(key) === tuning && this.choices.delete(key));
          this.choices.set(key, tuning);
        }
        choice = await this.choices.get(key)!;
      } else if (convKernel !== 'default') {
        choice = { variant: convKernel, timings: {} };
      }
      // A forced or remembered kernel that cannot run this shape gives way to the default.
      const forced = convVariant(choice.variant);
      const variant = forced.refuses(shape) === null ? forced : DEFAULT_CONV;
      chosen.set(step, variant);
      layers.push({ layer: step.conv.key, variant: variant.id, timings: choice.timings });
    }
    return { kernels: chosen, layers };
  }

  /** The weights of `step` in `variant`'s layout, uploaded once per layout. */
  private weightsFor(step: ConvStep, variant: ConvVariant): GPUBuffer {
    let packs = this.weightBuffers.get(step);
    if (!packs) this.weightBuffers.set(step, (packs = new Map()));
    let buffer = packs.get(variant.pack);
    if (!buffer) {
      const data = variant.pack(step.conv, step.norm);
      buffer = this.gpu.device.createBuffer({ label: `taesd weights ${step.conv.key}`, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
      new Float32Array(buffer.getMappedRange()).set(data);
      buffer.unmap();
      packs.set(variant.pack, buffer);
    }
    return buffer;
  }

  /** Buffers, uniforms and dispatches of a decode; synchronous, so its error scopes hold only our calls. `buffers` collects what it made. */
  private build(key: string, request: PlanRequest, program: Program, sched: Schedule, specs: readonly DispatchSpec[], latentKernel: KernelParams,
    layers: readonly LayerKernel[], buffers: GPUBuffer[]): Plan {
    const { device } = this.gpu;
    const { batch: n, height: h, width: w } = request;
    const u = program.graph.upscale;
    const H = h * u, W = w * u;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const create = (label: string, size: number, use = usage) => {
      const b = device.createBuffer({ label: `taesd ${key} ${label}`, size: Math.ceil(size / 16) * 16, usage: use });
      buffers.push(b);
      return b;
    };
    const slotBuffers = sched.slots.map((bytes, i) => create(`activations ${i}`, bytes));
    const latentBuffer = request.source.gpu ? null : create('latent', n * program.graph.input.channels * 4 * h * w);
    const outputBuffer = create('output', sched.outputBytes);
    const rgbaBuffer = create('rgba', n * H * W * 4);
    const nonFinite = create('non-finite count', 4);
    const inputAct = create('input', sched.input.bytes);
    const bufferOf = (inst: Instance) => (inst === sched.input ? inputAct : inst.act === program.output ? outputBuffer : slotBuffers[inst.slot]!);

    // Uniform slots: the input kernel, each step, the RGBA kernel, the texture kernel.
    const count = specs.length + 3;
    const uniforms = new Uint8Array(count * UNIFORM_STRIDE);
    const uniformBuffer = create('dims', uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    const slot = (i: number, data: ArrayBuffer): GPUBufferBinding => {
      uniforms.set(new Uint8Array(data), i * UNIFORM_STRIDE);
      return { buffer: uniformBuffer, offset: i * UNIFORM_STRIDE, size: data.byteLength };
    };

    const dispatches = specs.map((s) => {
      if (s.conv) {
        const c = s.conv;
        return convDispatch(device, `taesd conv ${c.step.conv.key}`, c.variant, s.params, c.dims, {
          dims: slot(s.uniform, convDimsData(c.dims)), src: bufferOf(c.src), weights: this.weightsFor(c.step, c.variant),
          skip: c.residual ? bufferOf(c.residual) : undefined, stats: c.stats ? bufferOf(c.stats) : undefined, dst: bufferOf(c.dst),
        });
      }
      const { src, dst } = s.stats!;
      const dims = slot(s.uniform, STATS_DIMS.write({ pixels: src.rows * src.width }));
      return pipelineDispatch(device, compiledPipeline(device, s.kernel, s.params), [dims, { buffer: bufferOf(src) }, { buffer: bufferOf(dst) }], s.workgroups);
    });

    const imageWorkgroups = [Math.ceil(W / WG_2D), Math.ceil(H / WG_2D), n] as const;
    const imageDims = slot(count - 2, IMAGE_DIMS.write({ w: W, h: H }));
    const rgbaDispatch = pipelineDispatch(device, compiledPipeline(device, 'rgbaOut', imageParams(program)), [imageDims, { buffer: outputBuffer }, { buffer: rgbaBuffer }, { buffer: nonFinite }], imageWorkgroups);
    const textureDims = slot(count - 1, IMAGE_DIMS.write({ w: W, h: H }));
    const latentDims = slot(0, LATENT_DIMS.write({}));
    device.queue.writeBuffer(uniformBuffer, 0, uniforms);
    const latentBlocks = program.latent.channelBlocks;
    const latentWorkgroups = [Math.ceil((w * latentBlocks) / WG_1D), h, n] as const;
    checkWorkgroups(device, latentWorkgroups, 'latentIn');
    checkWorkgroups(device, imageWorkgroups, 'rgbaOut');
    return {
      key, program, batch: n, latentH: h, latentW: w, width: W, height: H, latentBuffer, outputBuffer, rgbaBuffer, dispatches, rgbaDispatch, nonFinite,
      latentIn: { pipeline: compiledPipeline(device, 'latentIn', latentKernel), dims: latentDims, dst: inputAct, workgroups: latentWorkgroups },
      textureDims, buffers, bandCount: sched.bandCount, layers,
    };
  }
}

/** Dispatches fold batch items into a dimension of their own; one past the device's limit is our bug. */
function checkWorkgroups(device: GPUDevice, workgroups: readonly number[], kernel: string): void {
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((g) => g > limit)) fail('INTERNAL', `${kernel} dispatch of ${workgroups.join('x')} workgroups passes the device's ${limit} per dimension`);
}

function destroyPlan(plan: Plan): void {
  for (const b of plan.buffers) b.destroy();
  plan.staging?.destroy();
}
