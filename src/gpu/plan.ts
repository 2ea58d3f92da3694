// A decode of one size, planned: each step's kernel, parameters and dispatch size (pure), then
// every buffer, uniform and bind group made in one synchronous stretch, once per size.
import { checkConv, convDimsData, convDispatch, type ConvDims, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import { compiledPipeline, pipelineDispatch, type Dispatch, type KernelName, type KernelParams } from './kernels.js';
import type { Activation, ConvStep, Program } from './program.js';
import type { Instance, Schedule } from './schedule.js';

const UNIFORM_STRIDE = 256;
const WG_1D = 64;
export const WG_2D = 8;
const GN_WG = 256;

/** How the latent reaches the input kernel: uploaded from the CPU (prepared), or read from the caller's buffer. */
export interface LatentSource {
  readonly gpu: boolean;
  readonly f16: boolean;
  readonly packed: boolean;
}

/** Everything a decode of one size needs, made once and reused by later decodes of that size. */
export interface Plan {
  readonly key: string;
  readonly program: Program;
  readonly batch: number;
  /** The latent's size (unpacked). */
  readonly latentH: number;
  readonly latentW: number;
  readonly width: number;
  readonly height: number;
  /** The input kernel's pipeline and bindings but the latent's (a caller's buffer changes per step). */
  readonly latentIn: { readonly pipeline: GPUComputePipeline; readonly dims: GPUBufferBinding; readonly dst: GPUBuffer; readonly workgroups: readonly [number, number, number] };
  /** Our own latent buffer, for latents uploaded from the CPU. */
  readonly latentBuffer: GPUBuffer | null;
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

/** A dispatch as planned before any GPU object exists: its kernel, parameters and bindings by name. */
export interface DispatchSpec {
  readonly kernel: KernelName;
  readonly params: KernelParams;
  readonly workgroups: readonly [number, number, number];
  /** Set for conv steps, which bind through the conv layout. */
  readonly conv?: { readonly variant: ConvVariant; readonly step: ConvStep; readonly dims: ConvDims; readonly src: Instance; readonly dst: Instance; readonly skip: Instance | null; readonly stats: Instance | null };
  /** Set for the GroupNorm statistics kernel. */
  readonly stats?: { readonly src: Instance; readonly dst: Instance };
  /** Index of its uniform slot. */
  readonly uniform: number;
}

export function latentParams(program: Program, source: LatentSource, precision: Precision): KernelParams {
  return {
    WG: WG_1D, CHANNELS: program.graph.input.channels, CHANNEL_BLOCKS: program.latent.channelBlocks, ZERO_VEC4S: program.zeroVec4s,
    F16: source.f16, PACKED: source.packed, LATENT_WORD: { type: source.f16 ? 'u32' : 'f32' },
    act4: { type: precision === 'f16' ? 'vec4<f16>' : 'vec4<f32>' },
  };
}


export function convShape(program: Program, step: ConvStep, precision: Precision): ConvShape {
  return {
    k: step.conv.k, cinBlocks: step.src.channelBlocks, coutBlocks: step.dst.channelBlocks,
    upsample: step.upsample, relu: step.relu, residual: step.skip !== null, normGroups: step.norm?.groups ?? 0,
    precision: precision, outputF32: step.dst === program.output, zeroVec4s: program.zeroVec4s,
  };
}


/** Every step's kernel, parameters, dispatch size and uniform slot (slot 0 is the input kernel's). */
export function dispatchSpecs(program: Program, sched: Schedule, precision: Precision, n: number, h: number, w: number, kernels: ReadonlyMap<ConvStep, ConvVariant>): DispatchSpec[] {
  const act4 = { type: precision === 'f16' ? 'vec4<f16>' : 'vec4<f32>' };
  const zero = program.zeroVec4s;
  // The output has one whole-image buffer; the other activations hold their band's rows.
  const row0Of = (inst: Instance) => (inst.act === program.output ? 0 : inst.row0);
  const rowsOf = (inst: Instance) => (inst.act === program.output ? h << inst.act.level : inst.rows);
  return sched.steps.map(({ step, rows, band }, idx): DispatchSpec => {
    const uniform = idx + 1;
    const inst = (a: Activation) => sched.instance(a, band);
    const src = inst(step.src), dst = inst(step.dst);
    if (step.kind === 'stats') {
      const params: KernelParams = { WG: GN_WG, CHANNEL_BLOCKS: step.src.channelBlocks, GROUP_BLOCKS: step.src.channelBlocks / step.groups, EPS: step.eps, ZERO_VEC4S: zero, act4 };
      return { kernel: 'groupNormStats', params, workgroups: [step.groups, n, 1], stats: { src, dst }, uniform };
    }
    const shape = convShape(program, step, precision);
    const variant = kernels.get(step)!;
    checkConv(variant, shape, `taesd conv ${step.conv.key}`);
    const skip = step.skip ? inst(step.skip) : null;
    const stats = step.stats ? inst(step.stats) : null;
    const dims: ConvDims = {
      inW: src.width, inRow0: row0Of(src), outW: w << step.dst.level, outH: h << step.dst.level,
      outRow0: rows.lo, outRows: rows.hi - rows.lo, dstRow0: row0Of(dst), skipRow0: skip ? row0Of(skip) : 0,
      inRows: rowsOf(src), dstRows: rowsOf(dst), skipRows: skip ? rowsOf(skip) : 0, batch: n,
    };
    const params = variant.params(shape);
    return { kernel: variant.kernel, params, workgroups: variant.workgroups(params, dims), conv: { variant, step, dims, src, dst, skip, stats }, uniform };
  });
}


/** Buffers, uniforms and dispatches of a decode; synchronous, so its error scopes hold only our calls. `buffers` collects what it made. */
export function makePlan(device: GPUDevice, key: string, program: Program, sched: Schedule, specs: readonly DispatchSpec[], latentKernel: KernelParams, imageParams: KernelParams,
  source: LatentSource, n: number, h: number, w: number, weightsFor: (step: ConvStep, variant: ConvVariant) => GPUBuffer, buffers: GPUBuffer[]): Plan {
  const u = program.graph.upscale;
  const H = h * u, W = w * u;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const create = (label: string, size: number, use = usage) => {
    const b = device.createBuffer({ label: `taesd ${key} ${label}`, size: Math.ceil(size / 16) * 16, usage: use });
    buffers.push(b);
    return b;
  };
  const slotBuffers = sched.slots.map((bytes, i) => create(`activations ${i}`, bytes));
  const latentBuffer = source.gpu ? null : create('latent', n * program.graph.input.channels * 4 * h * w);
  const outputBuffer = create('output', sched.outputBytes);
  const rgbaBuffer = create('rgba', n * H * W * 4);
  const inputAct = create('input', sched.input.bytes);
  const bufferOf = (inst: Instance) => (inst === sched.input ? inputAct : inst.act === program.output ? outputBuffer : slotBuffers[inst.slot]!);

  // Uniform slots: the input kernel, each step, the RGBA kernel, the texture kernel.
  const count = specs.length + 3;
  const uniforms = new ArrayBuffer(count * UNIFORM_STRIDE);
  const uniformBuffer = create('dims', uniforms.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  const dims = (i: number, values: ArrayLike<number>) => new Int32Array(uniforms, i * UNIFORM_STRIDE, values.length).set(values);
  const uniform = (i: number, size: number): GPUBufferBinding => ({ buffer: uniformBuffer, offset: i * UNIFORM_STRIDE, size });

  const dispatches = specs.map((s) => {
    if (s.conv) {
      const c = s.conv;
      const data = convDimsData(c.dims);
      dims(s.uniform, data);
      return convDispatch(device, `taesd conv ${c.step.conv.key}`, c.variant, s.params, c.dims, {
        dims: uniform(s.uniform, data.byteLength), src: bufferOf(c.src), weights: weightsFor(c.step, c.variant),
        skip: c.skip ? bufferOf(c.skip) : undefined, stats: c.stats ? bufferOf(c.stats) : undefined, dst: bufferOf(c.dst),
      });
    }
    const { src, dst } = s.stats!;
    dims(s.uniform, [src.rows * src.width, 0, 0, 0]);
    return pipelineDispatch(device, compiledPipeline(device, s.kernel, s.params), [uniform(s.uniform, 16), { buffer: bufferOf(src) }, { buffer: bufferOf(dst) }], s.workgroups);
  });

  const imageWorkgroups = [Math.ceil(W / WG_2D), Math.ceil((n * H) / WG_2D), 1] as const;
  dims(count - 2, [W, n * H, 0, 0]);
  const rgbaDispatch = pipelineDispatch(device, compiledPipeline(device, 'rgbaOut', imageParams), [uniform(count - 2, 16), { buffer: outputBuffer }, { buffer: rgbaBuffer }], imageWorkgroups);
  dims(count - 1, [W, H, 0, 0]);
  device.queue.writeBuffer(uniformBuffer, 0, uniforms);
  const latentBlocks = program.latent.channelBlocks;
  return {
    key, program, batch: n, latentH: h, latentW: w, width: W, height: H, latentBuffer, outputBuffer, rgbaBuffer, dispatches, rgbaDispatch,
    latentIn: { pipeline: compiledPipeline(device, 'latentIn', latentKernel), dims: uniform(0, 32), dst: inputAct, workgroups: [Math.ceil((w * latentBlocks) / WG_1D), n * h, 1] },
    textureDims: uniform(count - 1, 16), buffers, bandCount: sched.bandCount,
  };
}
