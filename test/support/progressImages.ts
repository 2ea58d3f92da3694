// Synthetic preview images and independent decoders (pngjs, jpeg-js, upng-js: none of them
// shares code with the encoders under test) for the image and progress tests.
import { createRequire } from 'node:module';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../../src/model/rgba.js';
import { gaussian } from './random.js';

const require = createRequire(import.meta.url);
interface Upng {
  decode(buf: ArrayBuffer): { width: number; height: number; frames: { delay: number }[]; tabs: Record<string, unknown> };
  toRGBA8(img: unknown): ArrayBuffer[];
}
const UPNG = require('upng-js') as Upng;

/**
 * A smooth, photo-like test image: colour gradients, a few soft blobs that move with `seed`,
 * and mild noise, so sizes and timings resemble real previews. Alpha 255 unless `alpha`.
 */
export function syntheticImage(width: number, height: number, seed = 1, alpha = false): RgbaImage {
  const g = gaussian(seed);
  const blobs = Array.from({ length: 5 }, () => ({ x: Math.abs(g()) % 1, y: Math.abs(g() / 3) % 1, r: 0.1 + Math.abs(g()) * 0.1, c: [g(), g(), g()] }));
  const data = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width, v = y / height;
      let r = 200 * u + 30, gr = 180 * v + 40, b = 120 + 80 * Math.sin(6 * u + 4 * v + seed);
      for (const bl of blobs) {
        const d = Math.exp(-((u - bl.x) ** 2 + (v - bl.y) ** 2) / (2 * bl.r * bl.r));
        r += 60 * bl.c[0]! * d;
        gr += 60 * bl.c[1]! * d;
        b += 60 * bl.c[2]! * d;
      }
      const i = (y * width + x) * 4;
      data[i] = r + 4 * g();
      data[i + 1] = gr + 4 * g();
      data[i + 2] = b + 4 * g();
      data[i + 3] = alpha ? (x * 7 + y * 3) % 256 : 255;
    }
  }
  return { width, height, data };
}

/** Random bytes in every channel (worst case for compression, exercises every filter path). */
export function noiseImage(width: number, height: number, seed = 1, alpha = true): RgbaImage {
  const g = gaussian(seed);
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = !alpha && i % 4 === 3 ? 255 : Math.floor((g() * 0.3 + 0.5) * 256);
  return { width, height, data };
}

/** PNG -> RGBA with pngjs. */
export function pngjsDecode(bytes: Uint8Array): RgbaImage {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: new Uint8ClampedArray(png.data) };
}

/** JPEG -> RGBA with jpeg-js (throws on a truncated or corrupt file). */
export function jpegjsDecode(bytes: Uint8Array): RgbaImage {
  const im = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, tolerantDecoding: false });
  return { width: im.width, height: im.height, data: new Uint8ClampedArray(im.data) };
}

/** APNG -> frames (RGBA) and per-frame delays (ms) with upng-js. */
export function upngFrames(bytes: Uint8Array): { width: number; height: number; delays: number[]; frames: Uint8Array[]; plays: unknown } {
  const copy = bytes.slice().buffer;
  const img = UPNG.decode(copy);
  const frames = UPNG.toRGBA8(img).map((f) => new Uint8Array(f));
  return { width: img.width, height: img.height, delays: img.frames.map((f) => f.delay), frames, plays: img.tabs.acTL };
}

/** Peak signal-to-noise ratio of the RGB channels, dB. */
export function psnr(a: RgbaImage, b: RgbaImage): number {
  let s = 0, n = 0;
  for (let i = 0; i < a.data.length; i++) {
    if (i % 4 === 3) continue;
    const d = a.data[i]! - b.data[i]!;
    s += d * d;
    n++;
  }
  return s === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / s);
}

/** Mean of one channel. */
export function mean(image: RgbaImage, channel: number): number {
  let s = 0;
  for (let i = channel; i < image.data.length; i += 4) s += image.data[i]!;
  return s / (image.width * image.height);
}
