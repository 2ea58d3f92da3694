// A video latent as samplers hand it (NCTHW: ComfyUI, diffusers), checked and read frame by frame.
import { fail } from '../errors.js';
import { bfloat16ToFloat, halfToFloat } from '../weights/half.js';
import { checkData, MAX_LATENT_SIDE, MAX_LATENT_VALUES } from './latent.js';
import type { VideoModelSpec } from './videoRegistry.js';

/** `[1,C,T,h,w]` or `[C,T,h,w]`: float32, or 16-bit floats in a Uint16Array (`dtype` says which; float16 by default). */
export interface VideoLatentInput {
  readonly data: Float32Array | Uint16Array;
  readonly shape: readonly number[];
  readonly dtype?: 'float32' | 'float16' | 'bfloat16';
}

/**
 * A video latent in a `GPUBuffer` on the WebGPU video decoder's own device, as a sampler on the GPU
 * holds it: planar NCTHW float32 from byte 0, with `COPY_SRC` usage; decoded with no CPU copy
 * (WebGPU backend only). Values are not checked for NaN (that would need a readback).
 */
export interface GpuVideoLatentInput {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype?: 'float32';
}

export type AnyVideoLatentInput = VideoLatentInput | GpuVideoLatentInput;

/** Most latent frames in one input (a 20 s clip at 4x is ~120). */
export const MAX_LATENT_FRAMES = 4096;

/** A checked video latent; `read(t0, t1)` copies latent frames [t0, t1) out as `[t1 - t0, C, h, w]` float32 (a GPU latent's stay in `buffer`). */
export interface VideoLatent {
  readonly channels: number;
  readonly frames: number;
  readonly height: number;
  readonly width: number;
  /** The GPU-resident latent (NCTHW float32), or null. */
  readonly buffer: GPUBuffer | null;
  read(t0: number, t1: number): Float32Array;
}

/** Checks the shape, dtype and values (CPU latents) of a video latent for `model`. */
export function prepareVideoLatent(input: AnyVideoLatentInput, model: VideoModelSpec): VideoLatent {
  if (typeof input === 'object' && input !== null && 'buffer' in input) return gpuVideoLatent(input, model);
  const data = checkData(input);
  const [c, t, h, w] = videoShape(input, model);
  const values = c * t * h * w;
  const shown = `[${input.shape.map(String).join(',')}]`.slice(0, 80);
  if (data.length !== values) fail('LATENT_SHAPE', `latent data has ${data.length} values, shape ${shown} needs ${values}`);
  const dtype = input.dtype ?? (data instanceof Float32Array ? 'float32' : 'float16');
  if ((dtype === 'float32') !== (data instanceof Float32Array)) fail('LATENT_SHAPE', `latent.dtype ${String(dtype)} does not match its ${data.constructor.name}`);
  const value = data instanceof Float32Array ? (i: number) => data[i]! : dtype === 'bfloat16' ? (i: number) => bfloat16ToFloat(data[i]!) : (i: number) => halfToFloat(data[i]!);
  const plane = h * w;
  for (let i = 0; i < values; i++) {
    if (!Number.isFinite(value(i))) fail('LATENT_NON_FINITE', `latent holds a non-finite value (NaN or Infinity), first at channel ${Math.floor(i / (t * plane))}, frame ${Math.floor(i / plane) % t}`);
  }
  return {
    channels: c, frames: t, height: h, width: w, buffer: null,
    read(t0, t1) {
      const out = new Float32Array((t1 - t0) * c * plane);
      for (let f = t0; f < t1; f++) {
        for (let ch = 0; ch < c; ch++) {
          const from = (ch * t + f) * plane, to = ((f - t0) * c + ch) * plane;
          for (let i = 0; i < plane; i++) out[to + i] = value(from + i);
        }
      }
      return out;
    },
  };
}

/** GPUBufferUsage.COPY_SRC (a constant: the WebGPU globals may not be installed where this runs). */
const COPY_SRC = 0x0004;

function gpuVideoLatent(input: GpuVideoLatentInput, model: VideoModelSpec): VideoLatent {
  const { buffer, dtype = 'float32' } = input;
  if (dtype !== 'float32') fail('LATENT_SHAPE', `a GPU video latent's dtype must be 'float32', got ${String(dtype)}`);
  const [c, t, h, w] = videoShape(input, model);
  const bytes = c * t * h * w * 4;
  if (typeof buffer.usage !== 'number' || !(buffer.usage & COPY_SRC)) fail('BAD_OPTION', 'a GPU video latent buffer needs COPY_SRC usage');
  if (buffer.size < bytes) fail('LATENT_SHAPE', `GPU video latent buffer has ${buffer.size} bytes; float32 [1,${c},${t},${h},${w}] needs ${bytes}`);
  return {
    channels: c, frames: t, height: h, width: w, buffer,
    read: () => fail('BAD_OPTION', 'a GPU-resident video latent decodes on the WebGPU backend only; pass { data, shape } to this decoder'),
  };
}

/** `[C, T, h, w]` of a video latent's shape, checked for `model`. */
function videoShape(input: { readonly shape: readonly number[] }, model: VideoModelSpec): [number, number, number, number] {
  const given = (input as { shape?: unknown }).shape;
  if (!Array.isArray(given)) fail('LATENT_SHAPE', 'latent.shape must be an array such as [1, C, T, h, w]');
  const shape = [...(given as unknown[])] as number[];
  const shown = `[${shape.map(String).join(',')}]`.slice(0, 80);
  const C = model.latentChannels;
  if (shape.length === 5) {
    if (shape[0] !== 1) fail('LATENT_SHAPE', `latent ${shown} is a batch of ${String(shape[0])}; decode one video [1,C,T,h,w] at a time`);
    shape.shift();
  } else if (shape.length === 4) {
    // [C,T,h,w] unless it could as well be frames or images [T,C,h,w]: then the caller must say.
    if (shape[0] !== C || shape[1] === C) {
      fail('LATENT_SHAPE', `latent ${shown} is 4-D and ambiguous for the video model ${model.id}: pass [1,C,T,h,w] (NCTHW) with C = ${C}${shape[1] === C && shape[0] !== C ? ' (it looks like [T,C,h,w] or an image batch)' : ''}`);
    }
  } else fail('LATENT_SHAPE', `latent has rank ${shape.length} ${shown}; a video latent is [1,C,T,h,w] or [C,T,h,w]`);
  const [c, t, h, w] = shape as [number, number, number, number];
  if (![c, t, h, w].every((d) => Number.isSafeInteger(d) && d >= 0)) fail('LATENT_SHAPE', `latent shape ${shown} has an invalid dimension`);
  if (t === 0) fail('LATENT_SHAPE', `latent ${shown} has no frames (T = 0)`);
  // Upstream's taehv.py holds videos as NTCHW: say so when the channels sit where T should be.
  const ntchw = t === C && c !== C ? `; if it is [1,T,C,h,w] (upstream taehv's NTCHW order), permute it to [1,C,T,h,w]` : '';
  if (c !== C) fail('LATENT_CHANNELS', `latent has ${c} channels; video model ${model.id} takes ${C}${ntchw}`);
  if (h === 0 || w === 0 || h > MAX_LATENT_SIDE || w > MAX_LATENT_SIDE) fail('LATENT_SHAPE', `latent ${h}x${w} must be 1..${MAX_LATENT_SIDE} per side`);
  if (t > MAX_LATENT_FRAMES) fail('LATENT_SHAPE', `latent has ${t} frames, over ${MAX_LATENT_FRAMES}; stream it in parts`);
  const values = c * t * h * w;
  if (values > MAX_LATENT_VALUES) fail('LATENT_SHAPE', `latent ${shown} holds ${values} values, over ${MAX_LATENT_VALUES}; stream it in parts`);
  return [c, t, h, w];
}
