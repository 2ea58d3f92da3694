import { fail } from '../errors.js';
import { halvesToFloats } from '../weights/half.js';
import type { LatentInput, LatentSpace } from './decoder.js';
import type { ModelSpec } from './registry.js';

/** A latent ready for a decoder: `[channels, height, width]` float32 in TAESD's input space. */
export interface Latent {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** Largest latent side accepted (8192 px output); beyond it a typo is likelier than a real request. */
export const MAX_LATENT_SIDE = 1024;

/**
 * FLUX.2 samplers hold 128 channels at 1/16 scale, each 2x2 patch packed into channels;
 * `out[c, 2y+i, 2x+j] = in[4c + 2i + j, y, x]` (ComfyUI's reshape(32,2,2,h,w).permute(0,3,1,4,2)).
 */
export function unpackFlux2(data: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  const W = 2 * w;
  for (let c = 0; c < 32; c++) {
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 2; j++) {
        const src = (4 * c + 2 * i + j) * h * w;
        for (let y = 0; y < h; y++) {
          const row = (c * 2 * h + 2 * y + i) * W + j;
          for (let x = 0; x < w; x++) out[row + 2 * x] = data[src + y * w + x]!;
        }
      }
    }
  }
  return out;
}

/** Inverse of unpackFlux2: what a FLUX.2 sampler would hold for a 32-channel latent. */
export function packFlux2(data: Float32Array, H: number, W: number): Float32Array {
  const out = new Float32Array(data.length);
  const h = H / 2, w = W / 2;
  for (let c = 0; c < 32; c++)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) out[((4 * c + 2 * i + j) * h + y) * w + x] = data[(c * H + 2 * y + i) * W + 2 * x + j]!;
  return out;
}

/** The `{ data, shape }` of a latent as given, checked before anything reads it. */
function checkInput(input: LatentInput): { data: Float32Array | Uint16Array; shape: number[] } {
  if (typeof input !== 'object' || input === null) fail('LATENT_SHAPE', `a latent is an object { data, shape }, got ${input === null ? 'null' : typeof input}`);
  const { data, shape } = input as { data?: unknown; shape?: unknown };
  if (!Array.isArray(shape)) fail('LATENT_SHAPE', 'latent.shape must be an array such as [C, h, w]');
  if (!(data instanceof Float32Array || data instanceof Uint16Array)) {
    const got = data === undefined ? 'nothing' : data === null ? 'null' : ((data as object).constructor?.name ?? typeof data);
    fail('LATENT_SHAPE', `latent.data must be a Float32Array (or float16 bits in a Uint16Array), got ${got}`);
  }
  return { data, shape: [...(shape as unknown[])] as number[] };
}

/**
 * Checks a sampler's latent against the model and returns it in TAESD's input space.
 * Non-finite values are rejected (LATENT_NON_FINITE): a NaN step means the run is broken, and
 * an error says so where a sanitised image would hide it.
 */
export function prepareLatent(input: LatentInput, model: ModelSpec, space: LatentSpace = 'model'): Latent {
  const { data: given, shape } = checkInput(input);
  const shown = `[${shape.map(String).join(',')}]`.slice(0, 80);
  if (shape.length === 4) {
    if (shape[0] !== 1) fail('LATENT_SHAPE', `latent batch size is ${String(shape[0])}; decode one latent at a time ([1,C,h,w] or [C,h,w])`);
    shape.shift();
  }
  if (shape.length !== 3) fail('LATENT_SHAPE', `latent has rank ${input.shape.length} ${shown}; expected [C,h,w] or [1,C,h,w]`);
  let [c, h, w] = shape as [number, number, number];
  if (![c, h, w].every((d) => Number.isSafeInteger(d) && d > 0)) fail('LATENT_SHAPE', `latent shape ${shown} has an empty or invalid dimension`);
  const { latent: family } = model;
  if (c !== family.channels && c !== family.packedChannels) {
    const packed = family.packedChannels ? ` (or ${family.packedChannels} packed)` : '';
    fail('LATENT_CHANNELS', `latent has ${c} channels; model ${model.id} takes ${family.channels}${packed}`);
  }
  const side = c === family.packedChannels ? MAX_LATENT_SIDE / 2 : MAX_LATENT_SIDE;
  if (h > side || w > side) fail('LATENT_SHAPE', `latent ${h}x${w} exceeds ${side} per side`);
  if (given.length !== c * h * w) fail('LATENT_SHAPE', `latent data has ${given.length} values, shape ${shown} needs ${c * h * w}`);
  let data = given instanceof Float32Array ? given : halvesToFloats(given);
  if (c === family.packedChannels) {
    data = unpackFlux2(data, h, w);
    c = family.channels; h *= 2; w *= 2;
  }
  let bad = 0, firstBad = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) { bad++; if (firstBad < 0) firstBad = i; }
  }
  if (bad) fail('LATENT_NON_FINITE', `latent holds ${bad} non-finite value(s) (NaN or Infinity), first at channel ${Math.floor(firstBad / (h * w))}, y ${Math.floor(firstBad / w) % h}, x ${firstBad % w}`);
  if (space === 'vae') {
    const { scaleFactor: s, shiftFactor: t } = family;
    data = data.map((v) => (v - t) * s);
  } else if (space !== 'model') {
    fail('BAD_OPTION', `latentSpace must be 'model' or 'vae', got ${String(space)}`);
  }
  return { channels: c, height: h, width: w, data };
}
