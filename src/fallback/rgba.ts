import type { RawImage, RgbaImage } from '../model/decoder.js';

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
