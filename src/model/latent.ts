import { fail } from '../errors.js';
import { halvesToFloats } from '../weights/half.js';
import { isGpuLatent, type AnyLatentInput, type LatentInput, type LatentSpace } from './decoderTypes.js';
import type { ModelSpec } from './registry.js';

/** Latents ready for a decoder: `[batch, channels, height, width]` float32 in TAESD's input space. */
export interface Latent {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** Largest latent side accepted (8192 px output); beyond it a typo is likelier than a real request. */
export const MAX_LATENT_SIDE = 1024;
/** Most latents in one batch; a sampler's batch is a handful. */
export const MAX_BATCH = 64;

/** A decode scale's form: 1, 1/2, 1/4, ...; how small a model may go is skipForScale's (model/graph.ts). */
export function isScale(scale: number): boolean {
  return scale > 0 && scale <= 1 && Number.isInteger(Math.log2(1 / scale));
}
/** Most values in one latent input (256 MB as float32): a 1024x1024 FLUX latent batch of 2. */
export const MAX_LATENT_VALUES = 1 << 26;

/** Latents in a batch: the leading dimension of `[N,C,h,w]`, else 1. */
export function batchOf(latent: AnyLatentInput): number {
  const shape = (latent as { shape?: unknown }).shape;
  return Array.isArray(shape) && shape.length === 4 && Number.isSafeInteger(shape[0]) ? (shape[0] as number) : 1;
}

/** Checks that `latent` holds one latent, for the single-image methods. */
export function expectSingle(latent: AnyLatentInput): void {
  const n = batchOf(latent);
  if (n !== 1) fail('LATENT_SHAPE', `latent is a batch of ${n}; decode it with decodeBatch (or decodeRawBatch)`);
}

/** Refuses a GPU-resident latent on a backend that reads latents on the CPU. */
export function expectCpuLatent(latent: AnyLatentInput, backend: string): LatentInput {
  if (isGpuLatent(latent)) fail('BAD_OPTION', `a latent in a GPUBuffer needs the webgpu backend; the ${backend} backend reads latents from the CPU`, { reason: 'UNSUPPORTED' });
  return latent;
}

/** Item `i` of a batch, as a batch of one (a view: no copy). */
export function latentItem(latent: Latent, i: number): Latent {
  const { channels, height, width } = latent, n = channels * height * width;
  return { batch: 1, channels, height, width, data: latent.data.subarray(i * n, (i + 1) * n) };
}

/** A Latent that is also a LatentInput (`shape` is `[batch, channels, height, width]`): what Decoder.prepareLatent returns. */
export type PreparedLatent = Latent & LatentInput;

/** Latents already prepared, and the id of the model they were checked against. */
const PREPARED = new WeakMap<object, string>();

/** `latent` as an input that decoders of model `modelId` take as it is: checked, in model space, not scanned again. */
export function markPrepared(latent: Latent, modelId: string): PreparedLatent {
  const out = Object.freeze({ ...latent, shape: Object.freeze([latent.batch, latent.channels, latent.height, latent.width]) });
  PREPARED.set(out, modelId);
  return out;
}

/** Whether `latent` was prepared for `model` (then it is in model space, whatever `latentSpace` says). */
export function isPrepared(latent: AnyLatentInput, model: ModelSpec): latent is PreparedLatent {
  return PREPARED.get(latent) === model.id;
}

/** Item 0 of a batch `[N,C,h,w]` as `[1,C,h,w]` (a view); an item of a prepared latent stays prepared. */
export function firstItem(input: LatentInput): LatentInput {
  const n = batchOf(input);
  if (n === 1) return input;
  const modelId = PREPARED.get(input);
  if (modelId !== undefined) return markPrepared(latentItem(input as PreparedLatent, 0), modelId);
  return { data: input.data.subarray(0, input.data.length / n), shape: [1, ...input.shape.slice(1)] };
}

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

/** The `data` of a latent as given, checked before anything reads it. */
export function checkData(input: LatentInput): Float32Array | Uint16Array {
  if (typeof input !== 'object' || input === null) fail('LATENT_SHAPE', `a latent is an object { data, shape }, got ${input === null ? 'null' : typeof input}`);
  const { data } = input as { data?: unknown };
  if (!(data instanceof Float32Array || data instanceof Uint16Array)) {
    const got = data === undefined ? 'nothing' : data === null ? 'null' : ((data as object).constructor?.name ?? typeof data);
    fail('LATENT_SHAPE', `latent.data must be a Float32Array (or float16 bits in a Uint16Array), got ${got}`);
  }
  return data;
}

/** A latent input's shape, checked against the model: batch, size after unpacking, and whether it is FLUX.2-packed. */
export interface LatentShape {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly packed: boolean;
  /** Values the input holds (before unpacking). */
  readonly values: number;
  /** The shape as given, for messages. */
  readonly shown: string;
}

/** Checks `[C,h,w]` or `[N,C,h,w]` against the model and the size limits, before anything reads the data. */
export function checkLatentShape(given: unknown, model: ModelSpec): LatentShape {
  if (!Array.isArray(given)) fail('LATENT_SHAPE', 'latent.shape must be an array such as [C, h, w]');
  const shape = [...(given as unknown[])];
  const shown = `[${shape.map(String).join(',')}]`.slice(0, 80);
  if (shape.length === 3) shape.unshift(1);
  if (shape.length !== 4) fail('LATENT_SHAPE', `latent has rank ${given.length} ${shown}; expected [C,h,w] or [N,C,h,w]`);
  const [n, c, h, w] = shape as [number, number, number, number];
  if (![n, c, h, w].every((d) => Number.isSafeInteger(d) && d > 0)) fail('LATENT_SHAPE', `latent shape ${shown} has an empty or invalid dimension`);
  if (n > MAX_BATCH) fail('LATENT_SHAPE', `latent batch of ${n} exceeds ${MAX_BATCH}; decode it in parts`);
  const { latent: family } = model;
  const packed = c === family.packedChannels;
  if (c !== family.channels && !packed) {
    const other = family.packedChannels ? ` (or ${family.packedChannels} packed)` : '';
    fail('LATENT_CHANNELS', `latent has ${c} channels; model ${model.id} takes ${family.channels}${other}`);
  }
  const side = packed ? MAX_LATENT_SIDE / 2 : MAX_LATENT_SIDE;
  if (h > side || w > side) fail('LATENT_SHAPE', `latent ${h}x${w} exceeds ${side} per side`);
  const values = n * c * h * w;
  if (values > MAX_LATENT_VALUES) fail('LATENT_SHAPE', `latent ${shown} holds ${values} values, over ${MAX_LATENT_VALUES}; decode it in parts`);
  return packed
    ? { batch: n, channels: family.channels, height: 2 * h, width: 2 * w, packed, values, shown }
    : { batch: n, channels: c, height: h, width: w, packed, values, shown };
}

/**
 * Checks a sampler's latent(s) against the model and returns them in TAESD's input space:
 * `[C,h,w]`, or a batch `[N,C,h,w]` (FLUX.2's packed 128 channels unpacked item by item).
 * Non-finite values are rejected (LATENT_NON_FINITE): a NaN step means the run is broken, and
 * an error says so where a sanitised image would hide it. A latent already prepared for this model
 * (markPrepared) is returned as it is.
 */
export function prepareLatent(input: LatentInput, model: ModelSpec, space: LatentSpace = 'model'): Latent {
  if (isPrepared(input, model)) return input;
  const given = checkData(input);
  const { batch: n, channels: c, height: h, width: w, packed, values, shown } = checkLatentShape(input.shape, model);
  if (given.length !== values) fail('LATENT_SHAPE', `latent data has ${given.length} values, shape ${shown} needs ${values}`);
  let data = given instanceof Float32Array ? given : halvesToFloats(given);
  if (packed) {
    const per = values / n;
    const items = Array.from({ length: n }, (_, i) => unpackFlux2(data.subarray(i * per, (i + 1) * per), h / 2, w / 2));
    data = new Float32Array(values);
    items.forEach((item, i) => data.set(item, i * per));
  }
  let bad = 0, firstBad = -1;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) { bad++; if (firstBad < 0) firstBad = i; }
  }
  if (bad) {
    const plane = h * w, item = Math.floor(firstBad / (c * plane));
    const at = `${n > 1 ? `item ${item}, ` : ''}channel ${Math.floor(firstBad / plane) % c}, y ${Math.floor(firstBad / w) % h}, x ${firstBad % w}`;
    fail('LATENT_NON_FINITE', `latent holds ${bad} non-finite value(s) (NaN or Infinity), first at ${at}`);
  }
  if (space === 'vae') {
    const { scaleFactor: s, shiftFactor: t } = model.latent;
    data = data.map((v) => (v - t) * s);
  } else if (space !== 'model') {
    fail('BAD_OPTION', `latentSpace must be 'model' or 'vae', got ${String(space)}`);
  }
  return { batch: n, channels: c, height: h, width: w, data };
}
