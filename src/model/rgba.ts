import { fail } from '../errors.js';

/** An 8-bit RGBA image, layout-compatible with `ImageData`. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row-major RGBA, alpha 255. */
  readonly data: Uint8ClampedArray;
}

/** The decoder's raw float output: planar `[3,H,W]`, unclamped (roughly [0,1]). */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/**
 * Planar float `[3,H,W]` -> interleaved RGBA8 (alpha 255): clamp to [0,1], x255, round.
 * Uint8ClampedArray does the clamp and the rounding (half to even, NaN -> 0), as WGSL's round() would.
 */
export function rawToRgba(raw: RawImage): RgbaImage {
  const { width, height, data } = raw;
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    out[4 * i] = data[i]! * 255;
    out[4 * i + 1] = data[n + i]! * 255;
    out[4 * i + 2] = data[2 * n + i]! * 255;
    out[4 * i + 3] = 255;
  }
  return { width, height, data: out };
}

/** Values of `images` that are NaN or +-Infinity. */
export function countNonFinite(images: readonly RawImage[]): number {
  let bad = 0;
  for (const { data } of images) for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
  return bad;
}

/**
 * OUTPUT_NON_FINITE when a decode produced `bad` non-finite values: weights that overflow give an
 * all-NaN or all-Infinity image, which as 8-bit would pass for black or white.
 */
export function checkOutput(bad: number, backend: string, modelId: string): void {
  if (bad > 0) fail('OUTPUT_NON_FINITE', `the ${modelId} decoder produced ${bad} non-finite output value(s) (NaN or Infinity) on ${backend}: its weights overflow for this latent`);
}
