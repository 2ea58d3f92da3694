// Runs single kernels on a real WebGPU device (Dawn on lavapipe in Node), for kernel tests. Every
// run sits in validation and out-of-memory error scopes, so a kernel WebGPU refuses fails the test
// with WebGPU's message instead of returning garbage.
import { checkConv, convDimsData, convDispatch, convPipeline, DEFAULT_CONV, type ConvShape, type ConvVariant, type Precision } from '../../src/gpu/conv.js';
import { encodeDispatches, kernelPipeline, pipelineDispatch, type Dispatch } from '../../src/gpu/kernels.js';
import { blocks } from '../../src/gpu/program.js';
import { STATS_DIMS } from '../../src/gpu/uniforms.js';
import type { ConvWeights } from '../../src/model/weights.js';
import { floatsToHalves } from '../../src/weights/half.js';
import type { Map3 } from './reference.js';

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function buffer(device: GPUDevice, data: ArrayBufferView, usage = STORAGE()): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(256, Math.ceil(data.byteLength / 16) * 16), usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return b;
}

/** Runs `work` inside validation and out-of-memory error scopes; throws what WebGPU reported. */
export async function scoped<T>(device: GPUDevice, work: () => Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  let result: T, failure: unknown = null;
  try {
    result = await work();
  } catch (e) {
    failure = e;
  }
  const oom = await device.popErrorScope();
  const invalid = await device.popErrorScope();
  if (failure) throw failure;
  if (oom || invalid) throw new Error(`WebGPU: ${(oom ?? invalid)!.message}`);
  return result!;
}

export async function read(device: GPUDevice, src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
  const staging = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(src, offset, staging, 0, bytes);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.destroy();
  return out;
}

async function dispatch(device: GPUDevice, d: Dispatch): Promise<void> {
  const encoder = device.createCommandEncoder();
  encodeDispatches(encoder, [d]);
  device.queue.submit([encoder.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/** [c,h,w] -> the shared activation layout (channels padded to whole blocks) behind `zero` zero vec4s. */
export function toLayout(x: Map3, zero: number): Float32Array {
  const cb = blocks(x.c);
  const out = new Float32Array((zero + x.h * x.w * cb) * 4);
  for (let c = 0; c < x.c; c++) for (let p = 0; p < x.h * x.w; p++) out[zero * 4 + p * cb * 4 + c] = x.data[c * x.h * x.w + p]!;
  return out;
}

export function fromLayout(data: Float32Array, c: number, h: number, w: number, zero: number): Map3 {
  const cb = blocks(c);
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[ch * h * w + p] = data[zero * 4 + p * cb * 4 + ch]!;
  return { c, h, w, data: out };
}

export interface ConvRun {
  upsample?: boolean;
  relu?: boolean;
  skip?: Map3;
  norm?: { gamma: Float32Array; beta: Float32Array; groups: number; stats: Float32Array };
  variant?: ConvVariant;
  /** Storage of the input and residual (the output is f32 either way); f16 needs shader-f16. */
  precision?: Precision;
}

/** One conv dispatch on the GPU, whole image, through the kernel seam. */
export async function gpuConv(device: GPUDevice, conv: ConvWeights, x: Map3, o: ConvRun = {}): Promise<Map3> {
  const variant = o.variant ?? DEFAULT_CONV;
  const H = o.upsample ? 2 * x.h : x.h, W = o.upsample ? 2 * x.w : x.w;
  const zero = Math.max(1, blocks(conv.cin));
  const shape: ConvShape = {
    k: conv.k, cinBlocks: blocks(conv.cin), coutBlocks: blocks(conv.cout), upsample: !!o.upsample, relu: !!o.relu,
    residual: !!o.skip, normGroups: o.norm?.groups ?? 0, precision: o.precision ?? 'f32', outputF32: true, zeroVec4s: zero, prevConcat: false,
  };
  checkConv(variant, shape, 'test conv');
  const dims = { inW: x.w, inRow0: 0, outW: W, outH: H, outRow0: 0, outRows: H, dstRow0: 0, skipRow0: 0, inRows: x.h, dstRows: H, skipRows: H, batch: 1 };
  const dstBytes = (zero + H * W * shape.coutBlocks) * 16;
  const stored = (m: Map3) => (shape.precision === 'f16' ? floatsToHalves(toLayout(m, zero)) : toLayout(m, zero));
  return scoped(device, async () => {
    const dst = device.createBuffer({ size: dstBytes, usage: STORAGE() });
    const params = variant.params(shape);
    await convPipeline(device, variant, params);
    const d = convDispatch(device, 'test conv', variant, params, dims, {
      dims: { buffer: buffer(device, new Uint8Array(convDimsData(dims)), GPUBufferUsage.UNIFORM) },
      src: buffer(device, stored(x)), weights: buffer(device, variant.pack(conv, o.norm ?? null)), dst,
      skip: o.skip ? buffer(device, stored(o.skip)) : undefined,
      stats: o.norm ? buffer(device, o.norm.stats) : undefined,
    });
    await dispatch(device, d);
    return fromLayout(new Float32Array(await read(device, dst, dstBytes)), conv.cout, H, W, zero);
  });
}

/** GroupNorm statistics kernel: (mean, 1/sqrt(var+eps)) per group of a [c,h,w] map. */
export async function gpuGroupStats(device: GPUDevice, x: Map3, groups: number, eps: number): Promise<Float32Array> {
  const zero = 1;
  const cb = blocks(x.c);
  return scoped(device, async () => {
    const stats = device.createBuffer({ size: Math.max(256, groups * 8), usage: STORAGE() });
    const pipeline = await kernelPipeline(device, 'groupNormStats', { WG: 256, CHANNEL_BLOCKS: cb, GROUP_BLOCKS: cb / groups, EPS: eps, ZERO_VEC4S: zero, act4: { type: 'vec4<f32>' } });
    const dims = buffer(device, new Uint8Array(STATS_DIMS.write({ pixels: x.h * x.w })), GPUBufferUsage.UNIFORM);
    const d = pipelineDispatch(device, pipeline, [{ buffer: dims }, { buffer: buffer(device, toLayout(x, zero)) }, { buffer: stats }], [groups, 1, 1]);
    await dispatch(device, d);
    return new Float32Array(await read(device, stats, groups * 8));
  });
}
