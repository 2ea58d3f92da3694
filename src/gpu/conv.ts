// The conv kernel seam: a variant owns its weight packing, its parameters and its dispatch size,
// so faster kernels and a tuner add variants without touching the decoder. Every variant reads
// and writes the shared activation layout (shaders/layout.wgsl) and binds the same seven buffers.
import { fail } from '../errors.js';
import type { ConvWeights } from '../model/weights.js';
import { compiledPipeline, kernelPipeline, type Dispatch, type KernelName, type KernelParams } from './kernels.js';
import { CONV_DIMS } from './uniforms.js';

export type Precision = 'f32' | 'f16';

/** The WGSL type of an activation vec4 stored at `precision`, and its bytes: the one place precision becomes a type. */
export const act4Type = (precision: Precision): { type: string } => ({ type: precision === 'f16' ? 'vec4<f16>' : 'vec4<f32>' });
export const act4Bytes = (precision: Precision): number => (precision === 'f16' ? 8 : 16);

/** What selects a conv pipeline: shape, fused ops and storage types. */
export interface ConvShape {
  readonly k: number;
  readonly cinBlocks: number;
  readonly coutBlocks: number;
  readonly upsample: boolean;
  readonly relu: boolean;
  readonly residual: boolean;
  /** Groups of the GroupNorm (+ ReLU) applied to the input as it is read, or 0 for none. */
  readonly normGroups: number;
  readonly precision: Precision;
  /** Write f32 whatever the precision (the decoder's RGB output). */
  readonly outputF32: boolean;
  /** The layout's zero region, in vec4s: a 3x3 conv's padding taps read `cinBlocks` of them. */
  readonly zeroVec4s: number;
  /** The input is a MemBlock's concat of x and x's previous frame, read from x and the carried frame (ConvBindings.prev) rather than a copy. */
  readonly prevConcat: boolean;
}

/** The one key of a ConvShape, for every cache that holds something per shape (tuner, kernel choices). */
export function convShapeKey(s: ConvShape): string {
  return JSON.stringify([s.k, s.cinBlocks, s.coutBlocks, s.upsample, s.relu, s.residual, s.normGroups, s.precision, s.outputF32, s.zeroVec4s, s.prevConcat]);
}

/**
 * Rows and widths of one conv dispatch; rows are absolute (0 = the image's top row). A buffer
 * holds `*Rows` rows per batch item from its `*Row0`; the dispatch runs every item.
 */
export interface ConvDims {
  readonly inW: number;
  readonly inRow0: number;
  readonly outW: number;
  readonly outH: number;
  readonly outRow0: number;
  readonly outRows: number;
  readonly dstRow0: number;
  readonly skipRow0: number;
  readonly inRows: number;
  readonly dstRows: number;
  readonly skipRows: number;
  readonly batch: number;
}

export interface ConvVariant {
  /** Names the variant in reports, caches and tuning results. */
  readonly id: string;
  readonly kernel: KernelName;
  /** Why this variant cannot run `shape` here, or null when it can. */
  refuses(shape: ConvShape): string | null;
  /** The conv's weights (and GroupNorm affine) in the order the kernel reads them. */
  pack(conv: ConvWeights, norm: { gamma: Float32Array; beta: Float32Array } | null): Float32Array;
  /** Floats `pack` makes for `shape` (what the tuner allocates without real weights). */
  packedLength(shape: ConvShape): number;
  params(shape: ConvShape): KernelParams;
  workgroups(params: KernelParams, dims: ConvDims): [number, number, number];
}

/** Output channels are padded up to whole blocks (the final conv's 3 -> 4). */
const blocksOf = (channels: number): number => Math.ceil(channels / 4);

/** Where packBlocks puts the bias and the GroupNorm affine, in vec4s. */
function blockLayout(k: number, cinBlocks: number, coutBlocks: number): { biasAt: number; normAt: number } {
  const biasAt = coutBlocks * k * k * cinBlocks * 4;
  return { biasAt, normAt: biasAt + coutBlocks };
}

/** Floats of packBlocks' layout for a shape. */
function blocksLength(s: ConvShape): number {
  const { normAt } = blockLayout(s.k, s.cinBlocks, s.coutBlocks);
  return (normAt + (s.normGroups ? 2 * s.cinBlocks : 0)) * 4;
}

/**
 * The weight layout both conv kernels read: for each output block, tap and input block, four
 * vec4 columns (column j = input channel 4cb+j into the block's 4 outputs); then one bias vec4
 * per output block; then, for GroupNorm on the input, gamma and beta.
 */
function packBlocks(conv: ConvWeights, norm: { gamma: Float32Array; beta: Float32Array } | null): Float32Array {
  const { cin, cout, k } = conv;
  const cb = blocksOf(cin), taps = k * k;
  const { biasAt, normAt } = blockLayout(k, cb, blocksOf(cout));
  const data = new Float32Array((normAt + (norm ? 2 * cb : 0)) * 4);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let t = 0; t < taps; t++) {
        const col = (((o >> 2) * taps + t) * cb + (i >> 2)) * 4 + (i & 3);
        data[col * 4 + (o & 3)] = conv.weight[(o * cin + i) * taps + t]!;
      }
    }
    if (conv.bias) data[biasAt * 4 + o] = conv.bias[o]!;
  }
  if (norm) {
    data.set(norm.gamma, normAt * 4);
    data.set(norm.beta, (normAt + cb) * 4);
  }
  return data;
}

/** What both kernels are told of a shape: sizes, fused ops, where the bias and GroupNorm affine are, storage types. */
function shapeParams(s: ConvShape): KernelParams {
  const { biasAt, normAt } = blockLayout(s.k, s.cinBlocks, s.coutBlocks);
  return {
    K: s.k, CIN_BLOCKS: s.cinBlocks, COUT_BLOCKS: s.coutBlocks,
    UPSAMPLE: s.upsample, RELU: s.relu, RESIDUAL: s.residual, NORM_INPUT: s.normGroups > 0,
    GROUP_BLOCKS: s.normGroups ? s.cinBlocks / s.normGroups : 1, BIAS_AT: biasAt, NORM_AT: s.normGroups ? normAt : 0,
    ZERO_VEC4S: s.zeroVec4s,
    PREV_CONCAT: s.prevConcat, IN_BLOCKS: s.prevConcat ? s.cinBlocks / 2 : s.cinBlocks,
    act4: act4Type(s.precision),
    out4: act4Type(s.outputF32 ? 'f32' : s.precision),
  };
}

function refusesGroups(s: ConvShape): string | null {
  return s.normGroups && s.cinBlocks % s.normGroups ? `${s.cinBlocks} channel blocks do not split into ${s.normGroups} GroupNorm groups` : null;
}

/**
 * Direct convolution (shaders/conv.wgsl): each invocation computes `pixels` adjacent pixels of a
 * row times `outBlocks` output blocks, reading inputs and weights from global memory. Few
 * registers and no barriers: what CPU-emulated adapters (lavapipe, SwiftShader) run best.
 */
export function directConv(pixels: number, outBlocks: number, wgX = 8, wgY = 8): ConvVariant {
  return {
    id: `direct-${pixels}x${outBlocks}`,
    kernel: 'conv',
    refuses: (s) => (s.k > 1 && s.cinBlocks > s.zeroVec4s ? `a ${s.k}x${s.k} conv over ${s.cinBlocks} channel blocks reads past the ${s.zeroVec4s}-vec4 zero region` : refusesGroups(s)),
    pack: packBlocks,
    packedLength: blocksLength,
    params: (s) => ({ ...shapeParams(s), OB: s.coutBlocks % outBlocks === 0 ? outBlocks : 1, PIX: pixels, WG_X: wgX, WG_Y: wgY }),
    workgroups: (p, d) => {
      const n = (name: string) => p[name] as number;
      return [Math.ceil(Math.ceil(d.outW / n('PIX')) / n('WG_X')), Math.ceil(d.outRows / n('WG_Y')), (n('COUT_BLOCKS') / n('OB')) * d.batch];
    },
  };
}

/** Workgroup memory every WebGPU device offers (maxComputeWorkgroupStorageSize's default). */
const WORKGROUP_BYTES = 16384;

/**
 * Tiled implicit GEMM (shaders/conv_tiled.wgsl): a workgroup of wgX x wgY invocations computes
 * wgX * pixels output pixels of a row x wgY * outBlocks output blocks, staging `chunk` input
 * blocks at a time through workgroup memory; `f16` computes products in f16 (accumulating in
 * f32), where the device has shader-f16. The GPU-class kernel for hardware adapters.
 */
export function tiledConv(pixels: number, outBlocks: number, chunk: number, f16 = false, wgX = 8, wgY = 8): ConvVariant {
  return {
    id: `tiled-${pixels}x${outBlocks}-k${chunk}${f16 ? '-f16' : ''}${wgX !== 8 || wgY !== 8 ? `-wg${wgX}x${wgY}` : ''}`,
    kernel: 'convTiled',
    refuses: (s) => {
      if (s.cinBlocks % chunk) return `${s.cinBlocks} input blocks do not split into chunks of ${chunk}`;
      if (f16 && s.precision !== 'f16') return 'f16 math needs f16 storage (shader-f16)';
      const tileBytes = (wgX * pixels * chunk + chunk * wgY * outBlocks * 4) * act4Bytes(f16 ? 'f16' : 'f32');
      if (tileBytes > WORKGROUP_BYTES) return `its tiles need ${tileBytes} bytes of workgroup memory, over WebGPU's default ${WORKGROUP_BYTES}`;
      return refusesGroups(s);
    },
    pack: packBlocks,
    packedLength: blocksLength,
    params: (s) => ({ ...shapeParams(s), TP: pixels, TB: outBlocks, KB: chunk, WG_X: wgX, WG_Y: wgY, MATH: { type: f16 ? 'f16' : 'f32' } }),
    workgroups: (p, d) => {
      const n = (name: string) => p[name] as number;
      return [Math.ceil(d.outW / (n('WG_X') * n('TP'))), d.outRows, Math.ceil(n('COUT_BLOCKS') / (n('WG_Y') * n('TB'))) * d.batch];
    },
  };
}

/** The most output blocks a split conv takes: its invocations hold every output's partial sums. */
const SPLIT_MAX_COUT_BLOCKS = 2;

/**
 * Split reduction (shaders/conv_split.wgsl), for convs with few output channels (the final RGB
 * conv): `lanes` invocations share each pixel's input blocks, `pixelLanes` x `pixels` pixels of a
 * row per workgroup, partial sums added in workgroup memory.
 */
export function splitConv(pixels: number, lanes: number, pixelLanes: number): ConvVariant {
  return {
    id: `split-${pixels}-wg${lanes}x${pixelLanes}`,
    kernel: 'convSplit',
    refuses: (s) => {
      if (s.coutBlocks > SPLIT_MAX_COUT_BLOCKS) return `${s.coutBlocks} output blocks: split convs take at most ${SPLIT_MAX_COUT_BLOCKS}`;
      if (s.cinBlocks < lanes) return `${s.cinBlocks} input blocks leave lanes of ${lanes} idle`;
      if (s.k > 1 && s.cinBlocks > s.zeroVec4s) return `a ${s.k}x${s.k} conv over ${s.cinBlocks} channel blocks reads past the ${s.zeroVec4s}-vec4 zero region`;
      const bytes = pixelLanes * pixels * s.coutBlocks * lanes * 16;
      if (bytes > WORKGROUP_BYTES) return `its partial sums need ${bytes} bytes of workgroup memory, over WebGPU's default ${WORKGROUP_BYTES}`;
      return refusesGroups(s);
    },
    pack: packBlocks,
    packedLength: blocksLength,
    params: (s) => ({ ...shapeParams(s), PIX: pixels, WG_X: lanes, WG_Y: pixelLanes }),
    workgroups: (p, d) => [Math.ceil(d.outW / ((p.WG_Y as number) * (p.PIX as number))), d.outRows, d.batch],
  };
}

/** The variant used when nothing better was measured: 8 pixels x 2 output blocks (best of an A/B on lavapipe). */
export const DEFAULT_CONV = directConv(8, 2);

/** Every variant: what the tuner times (those that accept the shape), and what `convKernel` may name. */
export const CONV_VARIANTS: readonly ConvVariant[] = [
  DEFAULT_CONV, directConv(8, 4), directConv(4, 8),
  // Warp-wide rows (32 or 16 invocations along x): 1.5-2x the 8x8 tiles on an H200 (bench/results/h200-recheck-conv-sweep.txt).
  tiledConv(4, 4, 2, false, 32, 4), tiledConv(2, 4, 4, false, 32, 4), tiledConv(4, 4, 2, false, 16, 8), tiledConv(8, 2, 2, false, 16, 8),
  // One output block per workgroup: the final RGB conv (64 -> 3), which wider tiles mostly waste;
  // or its reduction split across invocations (its direct kernel took 13% of an H200's 480p video decode).
  tiledConv(4, 1, 2, false, 64, 1), splitConv(2, 16, 16), splitConv(2, 8, 32), splitConv(2, 4, 64),
  tiledConv(4, 2, 4), tiledConv(4, 4, 4), tiledConv(2, 2, 4), tiledConv(4, 2, 2), tiledConv(4, 2, 1),
  // f16 products (f32 sums) where the device has shader-f16: the f32 list's best shapes on the H200, untimed there in f16 yet.
  tiledConv(4, 2, 4, true), tiledConv(4, 4, 4, true), tiledConv(4, 4, 2, true, 32, 4), tiledConv(2, 4, 4, true, 32, 4), tiledConv(8, 2, 2, true, 16, 8),
];

/** A variant by id; BAD_OPTION for an unknown one. */
export function convVariant(id: string): ConvVariant {
  return CONV_VARIANTS.find((v) => v.id === id) ?? fail('BAD_OPTION', `unknown conv kernel ${JSON.stringify(id)}: expected one of ${CONV_VARIANTS.map((v) => v.id).join(', ')}`);
}

/** The conv kernels' uniform block (CONV_DIMS) for `d`; the batch goes into the dispatch size. */
export function convDimsData(d: ConvDims): ArrayBuffer {
  return CONV_DIMS.write({
    in_w: d.inW, in_row0: d.inRow0, out_w: d.outW, out_h: d.outH, out_rows: d.outRows, out_row0: d.outRow0,
    dst_row0: d.dstRow0, skip_row0: d.skipRow0, in_rows: d.inRows, dst_rows: d.dstRows, skip_rows: d.skipRows,
  });
}

interface ConvLayouts { group: GPUBindGroupLayout; pipeline: GPUPipelineLayout; unused: GPUBuffer }
const layouts = new WeakMap<GPUDevice, ConvLayouts>();

/** One bind-group layout for every conv variant, so unused skip/stats/prev slots can take a placeholder. */
function convLayouts(device: GPUDevice): ConvLayouts {
  let l = layouts.get(device);
  if (!l) {
    const entry = (binding: number, type: GPUBufferBindingType): GPUBindGroupLayoutEntry => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } });
    const ro = 'read-only-storage';
    const group = device.createBindGroupLayout({ label: 'taesd conv', entries: [entry(0, 'uniform'), entry(1, ro), entry(2, ro), entry(3, ro), entry(4, ro), entry(5, 'storage'), entry(6, ro)] });
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
  /** The carried frame (PREV_CONCAT). */
  readonly prev?: GPUBuffer | undefined;
}

/** Checks that `variant` runs `shape`: a plan that would compute garbage fails before any GPU work. */
export function checkConv(variant: ConvVariant, shape: ConvShape, label: string): void {
  const why = variant.refuses(shape);
  if (why) fail('INTERNAL', `${label}: conv kernel ${variant.id} cannot run this shape: ${why}`);
}

/** Compiles the pipeline of a conv variant with these parameters (once per device). */
export function convPipeline(device: GPUDevice, variant: ConvVariant, params: KernelParams): Promise<GPUComputePipeline> {
  return kernelPipeline(device, variant.kernel, params, convLayouts(device).pipeline);
}

/** A ready-to-encode conv dispatch of a compiled pipeline; the uniform `dims` must already hold convDimsData(dims). */
export function convDispatch(device: GPUDevice, label: string, variant: ConvVariant, params: KernelParams, dims: ConvDims, b: ConvBindings): Dispatch {
  const l = convLayouts(device);
  const buffer = (binding: number, buf: GPUBuffer) => ({ binding, resource: { buffer: buf } });
  return {
    pipeline: compiledPipeline(device, variant.kernel, params, l.pipeline),
    bindGroup: device.createBindGroup({
      label,
      layout: l.group,
      entries: [{ binding: 0, resource: b.dims }, buffer(1, b.src), buffer(2, b.weights), buffer(3, b.skip ?? l.unused), buffer(4, b.stats ?? l.unused), buffer(5, b.dst), buffer(6, b.prev ?? l.unused)],
    }),
    workgroups: variant.workgroups(params, dims),
  };
}
