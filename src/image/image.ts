import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';

/** Largest side an image function accepts (16384 px, what browsers' canvases allow). */
export const MAX_IMAGE_SIDE = 16384;

/** Throws BAD_OPTION unless `image` is a well-formed RgbaImage (integer sides 1..16384, data of w*h*4 bytes). */
export function checkImage(image: RgbaImage, what = 'image'): void {
  const { width, height, data } = image;
  const sideOk = (n: number) => Number.isInteger(n) && n >= 1 && n <= MAX_IMAGE_SIDE;
  if (!sideOk(width) || !sideOk(height))
    fail('BAD_OPTION', `${what}: size ${width}x${height} is outside 1..${MAX_IMAGE_SIDE} per side`);
  if (!(data instanceof Uint8ClampedArray) || data.length !== width * height * 4)
    fail('BAD_OPTION', `${what}: expected ${width * height * 4} bytes of RGBA (Uint8ClampedArray), got ${data?.length}`);
}

/** A new image of `width` x `height`, every pixel `fill` (RGBA, default opaque black). */
export function createImage(width: number, height: number, fill: readonly [number, number, number, number] = [0, 0, 0, 255]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  const [r, g, b, a] = fill;
  for (let i = 0; i < data.length; i += 4) {
    data[i] = r;
    data[i + 1] = g;
    data[i + 2] = b;
    data[i + 3] = a;
  }
  return { width, height, data };
}

/** True when every pixel's alpha is 255. */
export function isOpaque(image: RgbaImage): boolean {
  const d = image.data;
  for (let i = 3; i < d.length; i += 4) if (d[i] !== 255) return false;
  return true;
}

/** Copies `src` into `dst` with its top-left corner at (x, y); parts outside `dst` are cut. */
export function blit(dst: RgbaImage, src: RgbaImage, x: number, y: number): void {
  const x0 = Math.max(0, x), x1 = Math.min(dst.width, x + src.width);
  if (x1 <= x0) return;
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    const from = (sy * src.width + (x0 - x)) * 4;
    dst.data.set(src.data.subarray(from, from + (x1 - x0) * 4), (dy * dst.width + x0) * 4);
  }
}
