// What the weights and latent reader tests share: the upstream TAEF2 files, parsed once per test
// file, and helpers that return a thrown TaesdError after checking its code and reason.
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { isTaesdError, type TaesdError, type TaesdErrorCode, type TaesdErrorReason } from '../../src/errors.js';
import type { DecoderWeights } from '../../src/model/weights.js';
import { floatsToHalves } from '../../src/weights/half.js';
import { parsePth } from '../../src/weights/pth.js';
import { encodeSafetensors, parseSafetensors, type EncodableTensor } from '../../src/weights/safetensors.js';
import type { StateDict } from '../../src/weights/tensor.js';
import { safetensorsFromText } from './hostileFiles.js';
import { HAS_SHARED, TAEF2_PTH, TAEF2_SAFETENSORS } from './shared.js';

export const PTH_BYTES = new Uint8Array(readFileSync(TAEF2_PTH));
// Without ../shared an empty file stands in, so the suites that use it are collected (and skipped).
export const ST_BYTES = HAS_SHARED ? new Uint8Array(readFileSync(TAEF2_SAFETENSORS)) : encodeSafetensors({});
export const PTH = parsePth(PTH_BYTES, 'taef2_decoder.pth');
export const ST = parseSafetensors(ST_BYTES, 'taef2_decoder.safetensors').tensors;

/** The TaesdError `e` after checking its code and, when given, its reason; anything else is rethrown. */
function checked(e: unknown, code: TaesdErrorCode, reason?: TaesdErrorReason): TaesdError {
  if (!isTaesdError(e)) throw e;
  expect(e.code, e.message).toBe(code);
  if (reason !== undefined) expect(e.reason, e.message).toBe(reason);
  return e;
}

/** Runs `f` and returns the TaesdError it throws, failing the test if it throws anything else. */
export function thrown(f: () => unknown, code: TaesdErrorCode, reason?: TaesdErrorReason): TaesdError {
  try {
    f();
  } catch (e) {
    return checked(e, code, reason);
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

export async function rejected(p: Promise<unknown>, code: TaesdErrorCode, reason?: TaesdErrorReason): Promise<TaesdError> {
  try {
    await p;
  } catch (e) {
    return checked(e, code, reason);
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

export const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Every Float32Array in a value, depth first (toEqual on a whole decoder is too slow). */
function arrays(v: unknown, out: Float32Array[] = []): Float32Array[] {
  if (v instanceof Float32Array) out.push(v);
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => arrays(x, out));
  return out;
}

/** Same layer structure, keys and shapes, and bit-identical tensors. */
export function expectSameLayers(a: DecoderWeights, b: DecoderWeights): void {
  const outline = (d: DecoderWeights) => JSON.stringify(d.layers, (_, v: unknown) => (v instanceof Float32Array ? `f32[${v.length}]` : v));
  expect(outline(a)).toBe(outline(b));
  const [x, y] = [arrays(a.layers), arrays(b.layers)];
  expect(x.length).toBe(y.length);
  x.forEach((t, i) => expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(y[i]!.buffer, y[i]!.byteOffset, y[i]!.byteLength))).toBe(true));
}

/** A safetensors file from a raw header object and data bytes (for cases the encoder refuses). */
export const rawSafetensors = (header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array => safetensorsFromText(headerText, data);

/** Upstream state dict as F16 bits, ready for encodeSafetensors. */
export function asHalves(dict: StateDict, rename: (key: string) => string = (k) => k): Record<string, EncodableTensor> {
  const out: Record<string, EncodableTensor> = {};
  for (const [k, t] of dict) out[rename(k)] = { dtype: 'F16', shape: t.shape, data: floatsToHalves(t.data) };
  return out;
}
