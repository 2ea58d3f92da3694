import { kernelPipeline, type Dispatch, type KernelParams } from './kernels.js';
import { GN_GROUPS } from './program.js';
import type { PackedConv } from './pack.js';

/** vec4s of zeros at the start of every activation buffer; out-of-image taps read them. */
export const ZERO_VEC4S = 64;
/** Adjacent output pixels per invocation. */
export const PIX = 8;
export const WG_X = 8;
export const WG_Y = 8;

export type Precision = 'f32' | 'f16';

/** What selects a conv pipeline: shape, fused ops and storage types. */
export interface ConvSpec {
  readonly k: number;
  readonly cinBlocks: number;
  readonly coutBlocks: number;
  readonly upsample: boolean;
  readonly relu: boolean;
  readonly residual: boolean;
  /** Apply GroupNorm (statistics from a stats buffer) + ReLU to the input as it is read. */
  readonly normInput: boolean;
  readonly precision: Precision;
  /** Write f32 whatever the precision (the decoder's RGB output). */
  readonly outputF32: boolean;
}

/** Rows and widths of one conv dispatch; rows are absolute (0 = the image's top row). */
export interface ConvDims {
  readonly inW: number;
  readonly inRow0: number;
  readonly outW: number;
  readonly outH: number;
  readonly outRow0: number;
  readonly outRows: number;
  readonly dstRow0: number;
  readonly skipRow0: number;
}

/** The WGSL parameters of a conv, from which both its source and its dispatch size come. */
export function convParams(spec: ConvSpec, packed: Pick<PackedConv, 'biasAt' | 'normAt'>): KernelParams {
  const half = (f16: boolean) => ({ type: f16 ? 'vec4<f16>' : 'vec4<f32>' });
  return {
    K: spec.k, CIN_BLOCKS: spec.cinBlocks, COUT_BLOCKS: spec.coutBlocks,
    OB: spec.coutBlocks % 2 === 0 ? 2 : 1, PIX, WG_X, WG_Y,
    UPSAMPLE: spec.upsample, RELU: spec.relu, RESIDUAL: spec.residual, NORM_INPUT: spec.normInput,
    GROUP_BLOCKS: Math.max(1, spec.cinBlocks / GN_GROUPS), BIAS_AT: packed.biasAt, NORM_AT: packed.normAt, ZERO_VEC4S,
    act4: half(spec.precision === 'f16'),
    out4: half(spec.precision === 'f16' && !spec.outputF32),
  };
}

function convWorkgroups(params: KernelParams, dims: ConvDims): [number, number, number] {
  const n = (name: string) => params[name] as number;
  return [Math.ceil(Math.ceil(dims.outW / n('PIX')) / n('WG_X')), Math.ceil(dims.outRows / n('WG_Y')), n('COUT_BLOCKS') / n('OB')];
}

/** The uniform block shaders/conv.wgsl reads, as 8 i32. */
export function convDimsData(d: ConvDims): Int32Array {
  return Int32Array.of(d.inW, d.inRow0, d.outW, d.outH, d.outRows, d.outRow0, d.dstRow0, d.skipRow0);
}

interface ConvLayouts { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout; unused: GPUBuffer }
const layouts = new WeakMap<GPUDevice, ConvLayouts>();

/** One bind-group layout for every conv variant, so unused skip/stats slots can take a placeholder. */
function convLayouts(device: GPUDevice): ConvLayouts {
  let l = layouts.get(device);
  if (!l) {
    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    const ro = 'read-only-storage';
    const group = device.createBindGroupLayout({ label: 'taesd conv', entries: [entry(0, 'uniform'), entry(1, ro), entry(2, ro), entry(3, ro), entry(4, ro), entry(5, 'storage')] });
    const pipeline = device.createPipelineLayout({ label: 'taesd conv', bindGroupLayouts: [group] });
    const unused = device.createBuffer({ label: 'taesd unused binding', size: 256, usage: GPUBufferUsage.STORAGE });
    layouts.set(device, (l = { group, pipeline, unused }));
  }
  return l;
}

export interface ConvBindings {
  readonly dims: GPUBufferBinding;
  readonly src: GPUBuffer;
  readonly weights: GPUBuffer;
  readonly skip?: GPUBuffer | undefined;
  readonly stats?: GPUBuffer | undefined;
  readonly dst: GPUBuffer;
}

/** A ready-to-encode conv dispatch; the uniform `dims` must already hold convDimsData(dims). */
export function convDispatch(device: GPUDevice, label: string, params: KernelParams, dims: ConvDims, b: ConvBindings): Dispatch {
  const l = convLayouts(device);
  const buffer = (binding: number, buf: GPUBuffer) => ({ binding, resource: { buffer: buf } });
  return {
    pipeline: kernelPipeline(device, 'conv', params, l.pipeline),
    bindGroup: device.createBindGroup({
      label,
      layout: l.group,
      entries: [{ binding: 0, resource: b.dims }, buffer(1, b.src), buffer(2, b.weights), buffer(3, b.skip ?? l.unused), buffer(4, b.stats ?? l.unused), buffer(5, b.dst)],
    }),
    workgroups: convWorkgroups(params, dims),
  };
}
