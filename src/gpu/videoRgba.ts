// A chunk's raw frames (planar f32 [m, 3, H, W]) -> RGBA8 on the GPU through the image decoder's
// output kernels (clamp to [0,1], x255, round), after one pass into the shared layout (f32):
// rgbaOut into one buffer (frames in order), or rgbaTexture into a texture per frame.
import { fail } from '../errors.js';
import { rawToRgba } from '../model/rgba.js';
import type { FrameForm, GpuVideoFrame } from '../model/videoSession.js';
import { compiledPipeline, encodeDispatches, kernelPipeline, pipelineDispatch, type Dispatch } from './kernels.js';
import { WG_2D } from './plan.js';
import { IMAGE_DIMS, VIDEO_DIMS } from './uniforms.js';
import { planarKernel } from './videoSteps.js';

const RGBA_PARAMS = { WG_X: WG_2D, WG_Y: WG_2D, ZERO_VEC4S: 1 };
const toLayout = () => planarKernel(3, true, 'f32', 1);

/** Where a chunk's RGBA goes: one buffer, or a texture per frame. */
export type RgbaTarget = 'buffer' | 'textures';

/** Compiles the layout kernel and `target`'s output kernel (once per device). */
export async function compileRgba(device: GPUDevice, target: RgbaTarget): Promise<void> {
  const k = toLayout();
  await Promise.all([kernelPipeline(device, k.name, k.params), kernelPipeline(device, target === 'buffer' ? 'rgbaOut' : 'rgbaTexture', RGBA_PARAMS)]);
}

interface Encoded {
  /** The frames in one buffer (one u32 per pixel), or null for textures. */
  readonly rgba: GPUBuffer | null;
  readonly textures: GPUTexture[];
  /** Free once the work is done. */
  readonly temps: GPUBuffer[];
}

/** Encodes `raw` `[m, 3, H, W]` -> RGBA in `target`; `storage` gives its storage buffers (the runner's pool). */
export function encodeRgba(device: GPUDevice, encoder: GPUCommandEncoder, raw: GPUBuffer, [m, , H, W]: readonly [number, number, number, number], target: RgbaTarget, storage: (label: string, bytes: number) => GPUBuffer): Encoded {
  const temps: GPUBuffer[] = [];
  const temp = (b: GPUBuffer) => { temps.push(b); return b; };
  const uniform = (data: ArrayBuffer) => { const b = temp(device.createBuffer({ label: 'taesd video rgba dims', size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })); device.queue.writeBuffer(b, 0, data); return b; };
  const layout = temp(storage('taesd video rgba layout', (1 + m * H * W) * 16));
  // The non-finite count the output kernels keep is not read: the video path turns NaN into 0 on every backend.
  const nonFinite = temp(storage('taesd video rgba non-finite', 16));
  const k = toLayout();
  const dispatches: Dispatch[] = [
    pipelineDispatch(device, compiledPipeline(device, k.name, k.params), [{ buffer: uniform(VIDEO_DIMS.write({ out_w: W, out_h: H, in_w: W, in_h: H })) }, { buffer: raw }, { buffer: layout }], [Math.ceil(W / k.wg), H, m]),
  ];
  const groups = [Math.ceil(W / WG_2D), Math.ceil(H / WG_2D)] as const;
  let rgba: GPUBuffer | null = null;
  const textures: GPUTexture[] = [];
  if (target === 'buffer') {
    rgba = storage('taesd video rgba', m * H * W * 4);
    dispatches.push(pipelineDispatch(device, compiledPipeline(device, 'rgbaOut', RGBA_PARAMS), [{ buffer: uniform(IMAGE_DIMS.write({ w: W, h: H })) }, { buffer: layout }, { buffer: rgba }, { buffer: nonFinite }], [...groups, m]));
  } else {
    for (let item = 0; item < m; item++) {
      const texture = frameTexture(device, W, H);
      textures.push(texture);
      dispatches.push(pipelineDispatch(device, compiledPipeline(device, 'rgbaTexture', RGBA_PARAMS), [{ buffer: uniform(IMAGE_DIMS.write({ w: W, h: H, item })) }, { buffer: layout }, texture.createView(), { buffer: nonFinite }], [...groups, 1]));
    }
  }
  encodeDispatches(encoder, dispatches, 'taesd video rgba');
  return { rgba, textures, temps };
}

/** A frame's texture: written by the kernel (or a blank frame's upload), copied to a canvas or read back, sampled by a caller's pipeline. */
export function frameTexture(device: GPUDevice, width: number, height: number): GPUTexture {
  const usage = GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_SRC | GPUTextureUsage.COPY_DST | GPUTextureUsage.TEXTURE_BINDING;
  return device.createTexture({ label: 'taesd video frame', size: [width, height], format: 'rgba8unorm', usage });
}

/** Frames left on `device` as textures; a blank frame (a padded window's) is uploaded, frames the video does not keep are destroyed. */
export function textureFrames(device: GPUDevice): FrameForm<GpuVideoFrame> {
  return {
    out: 'textures',
    fromRaw: (raw) => {
      const { width, height, data } = rawToRgba(raw);
      const texture = frameTexture(device, width, height);
      device.queue.writeTexture({ texture }, data as Uint8ClampedArray<ArrayBuffer>, { bytesPerRow: width * 4 }, [width, height]);
      return { width, height, texture };
    },
    fromRgba: () => fail('INTERNAL', 'a texture video decode got RGBA bytes'),
    fromTexture: (frame) => frame,
    drop: (frame) => frame.texture.destroy(),
  };
}
