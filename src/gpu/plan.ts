// A decode of one size, planned without GPU objects: each step's kernel, parameters, dispatch
// size and uniform slot (pure). planner.ts turns the specs into buffers and bind groups.
import { act4Type, checkConv, type ConvDims, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import type { Dispatch, KernelName, KernelParams } from './kernels.js';
import type { LayerKernel } from '../model/decoderTypes.js';
import type { Activation, ConvStep, Program } from './program.js';
import type { Instance, Schedule } from './schedule.js';

export const WG_1D = 64;
export const WG_2D = 8;
const GN_WG = 256;

/** How the latent reaches the input kernel: uploaded from the CPU (prepared), or read from the caller's buffer. */
export interface LatentSource {
  readonly gpu: boolean;
  readonly f16: boolean;
  readonly packed: boolean;
}

/** What selects a plan: output scale (upsamples skipped), latent source, batch and latent size. */
export interface PlanRequest {
  readonly skip: number;
  readonly source: LatentSource;
  readonly batch: number;
  readonly height: number;
  readonly width: number;
}

/** The one key of a plan request, for the plan cache. */
export const planKey = (r: PlanRequest): string => JSON.stringify([r.skip, r.source.gpu, r.source.f16, r.source.packed, r.batch, r.height, r.width]);

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
  /** Non-finite output values, counted by the RGBA kernels (one u32, cleared per decode). */
  readonly nonFinite: GPUBuffer;
  readonly buffers: readonly GPUBuffer[];
  readonly bandCount: number;
  /** The conv kernel each layer runs with. */
  readonly layers: readonly LayerKernel[];
  staging?: GPUBuffer;
}

/** A dispatch as planned before any GPU object exists: its kernel, parameters and bindings by name. */
export interface DispatchSpec {
  readonly kernel: KernelName;
  readonly params: KernelParams;
  readonly workgroups: readonly [number, number, number];
  /** Set for conv steps, which bind through the conv layout. */
  readonly conv?: { readonly variant: ConvVariant; readonly step: ConvStep; readonly dims: ConvDims; readonly src: Instance; readonly dst: Instance; readonly residual: Instance | null; readonly stats: Instance | null };
  /** Set for the GroupNorm statistics kernel. */
  readonly stats?: { readonly src: Instance; readonly dst: Instance };
  /** Index of its uniform slot. */
  readonly uniform: number;
}

export function latentParams(program: Program, source: LatentSource, precision: Precision): KernelParams {
  return {
    WG: WG_1D, CHANNELS: program.graph.input.channels, CHANNEL_BLOCKS: program.latent.channelBlocks, ZERO_VEC4S: program.zeroVec4s,
    F16: source.f16, PACKED: source.packed, LATENT_WORD: { type: source.f16 ? 'u32' : 'f32' },
    act4: act4Type(precision),
  };
}


export function convShape(program: Program, step: ConvStep, precision: Precision): ConvShape {
  return {
    k: step.conv.k, cinBlocks: step.src.channelBlocks, coutBlocks: step.dst.channelBlocks,
    upsample: step.upsample, relu: step.relu, residual: step.residual !== null, normGroups: step.norm?.groups ?? 0, prevConcat: false,
    precision: precision, outputF32: step.dst === program.output, zeroVec4s: program.zeroVec4s,
  };
}


/** Every step's kernel, parameters, dispatch size and uniform slot (slot 0 is the input kernel's). */
export function dispatchSpecs(program: Program, sched: Schedule, precision: Precision, n: number, h: number, w: number, kernels: ReadonlyMap<ConvStep, ConvVariant>): DispatchSpec[] {
  const act4 = act4Type(precision);
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
    const residual = step.residual ? inst(step.residual) : null;
    const stats = step.stats ? inst(step.stats) : null;
    const dims: ConvDims = {
      inW: src.width, inRow0: row0Of(src), outW: w << step.dst.level, outH: h << step.dst.level,
      outRow0: rows.lo, outRows: rows.hi - rows.lo, dstRow0: row0Of(dst), skipRow0: residual ? row0Of(residual) : 0,
      inRows: rowsOf(src), dstRows: rowsOf(dst), skipRows: residual ? rowsOf(residual) : 0, batch: n,
    };
    const params = variant.params(shape);
    return { kernel: variant.kernel, params, workgroups: variant.workgroups(params, dims), conv: { variant, step, dims, src, dst, residual, stats }, uniform };
  });
}
