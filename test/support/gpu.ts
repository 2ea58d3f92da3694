// Runs single kernels on a real WebGPU device (Dawn on lavapipe in Node), for kernel tests.
import { convDimsData, convDispatch, convParams, ZERO_VEC4S, type ConvSpec } from '../../src/gpu/conv.js';
import { encodeDispatches, kernelDispatch } from '../../src/gpu/kernels.js';
import { blocks, packConv } from '../../src/gpu/pack.js';
import type { ConvWeights } from '../../src/model/weights.js';
import type { Map3 } from './reference.js';

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function buffer(device: GPUDevice, data: ArrayBufferView, usage = STORAGE()): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(256, Math.ceil(data.byteLength / 16) * 16), usage: usage | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return b;
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

/** [c,h,w] -> NHWC4 behind the zero region (channels padded to a multiple of 4). */
export function toNhwc4(x: Map3): Float32Array {
  const cb = blocks(x.c);
  const out = new Float32Array((ZERO_VEC4S + x.h * x.w * cb) * 4);
  for (let c = 0; c < x.c; c++) for (let p = 0; p < x.h * x.w; p++) out[ZERO_VEC4S * 4 + p * cb * 4 + c] = x.data[c * x.h * x.w + p]!;
  return out;
}

export function fromNhwc4(data: Float32Array, c: number, h: number, w: number): Map3 {
  const cb = blocks(c);
  const out = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[ch * h * w + p] = data[ZERO_VEC4S * 4 + p * cb * 4 + ch]!;
  return { c, h, w, data: out };
}

export interface ConvRun {
  upsample?: boolean;
  relu?: boolean;
  skip?: Map3;
  norm?: { gamma: Float32Array; beta: Float32Array; stats: Float32Array };
}

/** One conv dispatch on the GPU (f32), whole image. */
export async function gpuConv(device: GPUDevice, conv: ConvWeights, x: Map3, o: ConvRun = {}): Promise<Map3> {
  const H = o.upsample ? 2 * x.h : x.h, W = o.upsample ? 2 * x.w : x.w;
  const packed = packConv(conv, o.norm);
  const spec: ConvSpec = {
    k: conv.k, cinBlocks: blocks(conv.cin), coutBlocks: blocks(conv.cout), upsample: !!o.upsample, relu: !!o.relu,
    residual: !!o.skip, normInput: !!o.norm, precision: 'f32', outputF32: true,
  };
  const dims = { inW: x.w, inRow0: 0, outW: W, outH: H, outRow0: 0, outRows: H, dstRow0: 0, skipRow0: 0 };
  const dstBytes = (ZERO_VEC4S + H * W * spec.coutBlocks) * 16;
  const dst = device.createBuffer({ size: dstBytes, usage: STORAGE() });
  const d = convDispatch(device, 'test conv', convParams(spec, packed), dims, {
    dims: { buffer: buffer(device, convDimsData(dims), GPUBufferUsage.UNIFORM) },
    src: buffer(device, toNhwc4(x)), weights: buffer(device, packed.data), dst,
    skip: o.skip ? buffer(device, toNhwc4(o.skip)) : undefined,
    stats: o.norm ? buffer(device, o.norm.stats) : undefined,
  });
  const encoder = device.createCommandEncoder();
  encodeDispatches(encoder, [d]);
  device.queue.submit([encoder.finish()]);
  return fromNhwc4(new Float32Array(await read(device, dst, dstBytes)), conv.cout, H, W);
}

/** GroupNorm statistics kernel: (mean, 1/sqrt(var+eps)) per group of a [c,h,w] map. */
export async function gpuGroupStats(device: GPUDevice, x: Map3, groups: number, eps: number): Promise<Float32Array> {
  const stats = device.createBuffer({ size: 256, usage: STORAGE() });
  const cb = blocks(x.c);
  const d = kernelDispatch(device, 'groupNormStats', { WG: 256, CHANNEL_BLOCKS: cb, GROUP_BLOCKS: cb / groups, EPS: eps, ZERO_VEC4S, act4: { type: 'vec4<f32>' } },
    [{ buffer: buffer(device, Uint32Array.of(x.h * x.w, 0, 0, 0), GPUBufferUsage.UNIFORM) }, { buffer: buffer(device, toNhwc4(x)) }, { buffer: stats }], [groups, 1, 1]);
  const encoder = device.createCommandEncoder();
  encodeDispatches(encoder, [d]);
  device.queue.submit([encoder.finish()]);
  return new Float32Array(await read(device, stats, groups * 8));
}
