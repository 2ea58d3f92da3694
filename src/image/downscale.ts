import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { checkImage, isOpaque, MAX_IMAGE_SIDE } from './image.js';

/** For each output index, the source pixels it covers and each one's share of its area. */
function coverage(src: number, dst: number): { first: Int32Array; weights: Float32Array[] } {
  const scale = src / dst;
  const first = new Int32Array(dst);
  const weights: Float32Array[] = [];
  for (let o = 0; o < dst; o++) {
    const a = o * scale, b = (o + 1) * scale;
    const i0 = Math.floor(a), i1 = Math.min(src, Math.ceil(b));
    const w = new Float32Array(i1 - i0);
    for (let i = i0; i < i1; i++) w[i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
    first[o] = i0;
    weights.push(w);
  }
  return { first, weights };
}

/** Output size for `maxSide`: the longer side becomes `maxSide`, the other keeps the aspect (at least 1). */
export function fitSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const s = maxSide / Math.max(width, height);
  if (s >= 1) return { width, height };
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/**
 * Shrinks `image` so its longer side is at most `maxSide` (integer 1..16384), keeping the aspect
 * ratio, by area averaging: each output pixel is the mean of the source area it covers
 * (fractional pixels weighted by overlap), so thin detail blends instead of aliasing as with
 * nearest-neighbour. Colours are averaged premultiplied by alpha. Never enlarges: an image
 * already within `maxSide` is returned as is (same object). Cost: ~2 multiply-adds per source
 * byte (separable passes), about 5 ms for 512x512 -> 256x256.
 */
export function downscale(image: RgbaImage, maxSide: number): RgbaImage {
  checkImage(image);
  if (!Number.isInteger(maxSide) || maxSide < 1 || maxSide > MAX_IMAGE_SIDE)
    fail('BAD_OPTION', `maxSide must be an integer 1..${MAX_IMAGE_SIDE}, got ${maxSide}`);
  const { width: W, height: H } = fitSize(image.width, image.height, maxSide);
  if (W === image.width && H === image.height) return image;
  const { width: w, height: h, data } = image;
  const premultiply = !isOpaque(image);
  const cx = coverage(w, W), cy = coverage(h, H);

  // Horizontal pass: h rows of W pixels, float RGBA (premultiplied when needed).
  const mid = new Float32Array(h * W * 4);
  for (let y = 0; y < h; y++) {
    for (let ox = 0; ox < W; ox++) {
      const wts = cx.weights[ox]!;
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0, s = (y * w + cx.first[ox]!) * 4; k < wts.length; k++, s += 4) {
        const f = wts[k]!;
        const al = data[s + 3]!;
        const m = premultiply ? (f * al) / 255 : f;
        r += data[s]! * m;
        g += data[s + 1]! * m;
        b += data[s + 2]! * m;
        a += al * f;
      }
      const d = (y * W + ox) * 4;
      mid[d] = r;
      mid[d + 1] = g;
      mid[d + 2] = b;
      mid[d + 3] = a;
    }
  }
  // Vertical pass.
  const out = new Uint8ClampedArray(W * H * 4);
  for (let oy = 0; oy < H; oy++) {
    const wts = cy.weights[oy]!, y0 = cy.first[oy]!;
    for (let ox = 0; ox < W; ox++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let k = 0; k < wts.length; k++) {
        const f = wts[k]!, s = ((y0 + k) * W + ox) * 4;
        r += mid[s]! * f;
        g += mid[s + 1]! * f;
        b += mid[s + 2]! * f;
        a += mid[s + 3]! * f;
      }
      const d = (oy * W + ox) * 4;
      const u = premultiply ? (a > 0 ? 255 / a : 0) : 1;
      out[d] = Math.round(r * u);
      out[d + 1] = Math.round(g * u);
      out[d + 2] = Math.round(b * u);
      out[d + 3] = Math.round(a);
    }
  }
  return { width: W, height: H, data: out };
}
