// A chunk's raw frames (planar f32 [m, 3, H, W]) -> RGBA8 on the GPU through the image decoder's
// rgbaOut kernel (clamp to [0,1], x255, round), after one pass into the shared layout (f32).
import { compiledPipeline, encodeDispatches, kernelPipeline, pipelineDispatch } from './kernels.js';
import { WG_2D } from './plan.js';
import { IMAGE_DIMS, VIDEO_DIMS } from './uniforms.js';
import { planarKernel } from './videoSteps.js';

const RGBA_PARAMS = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: 1 };
const toLayout = () => planarKernel(3, true, 'f32', 1);

/** Compiles the two kernels (once per device). */
export async function compileRgba(device: GPUDevice): Promise<void> {
  const k = toLayout();
  await Promise.all([kernelPipeline(device, k.name, k.params), kernelPipeline(device, 'rgbaOut', RGBA_PARAMS)]);
}

/** Encodes `raw` `[m, 3, H, W]` -> `rgba` (one u32 per pixel, frames in order); `temps`: free once the work is done. */
export function encodeRgba(device: GPUDevice, encoder: GPUCommandEncoder, raw: GPUBuffer, [m, , H, W]: readonly [number, number, number, number]): { rgba: GPUBuffer; temps: GPUBuffer[] } {
  const temps: GPUBuffer[] = [];
  const buffer = (bytes: number, usage: number) => device.createBuffer({ label: 'taesd video rgba', size: Math.max(16, bytes), usage });
  const temp = (bytes: number, usage: number) => { const b = buffer(bytes, usage); temps.push(b); return b; };
  const uniform = (data: ArrayBuffer) => { const b = temp(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(b, 0, data); return b; };
  const layout = temp((1 + m * H * W) * 16, GPUBufferUsage.STORAGE);
  // The non-finite count rgbaOut keeps is not read: the video path turns NaN into 0 on every backend.
  const nonFinite = temp(16, GPUBufferUsage.STORAGE);
  const rgba = buffer(m * H * W * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const k = toLayout();
  encodeDispatches(encoder, [
    pipelineDispatch(device, compiledPipeline(device, k.name, k.params), [{ buffer: uniform(VIDEO_DIMS.write({ out_w: W, out_h: H, in_w: W, in_h: H })) }, { buffer: raw }, { buffer: layout }], [Math.ceil(W / k.wg), H, m]),
    pipelineDispatch(device, compiledPipeline(device, 'rgbaOut', RGBA_PARAMS), [{ buffer: uniform(IMAGE_DIMS.write({ w: W, h: H })) }, { buffer: layout }, { buffer: rgba }, { buffer: nonFinite }], [Math.ceil(W / WG_2D), Math.ceil(H / WG_2D), m]),
  ], 'taesd video rgba');
  return { rgba, temps };
}
