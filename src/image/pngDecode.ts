import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { inflateExactly } from '../weights/inflate.js';
import { MAX_IMAGE_SIDE } from './image.js';
import { crc32 } from '../crc32.js';
import { concat, PNG_SIGNATURE, unfilterScanlines } from './pngChunks.js';

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * Most pixels a PNG may have to be decoded: 4096x4096 (64 MiB of RGBA; decoding peaks near 3x
 * that). Previews are a latent's size x 8: 1024x1024 for a 128x128 latent.
 */
export const MAX_DECODE_PIXELS = 2 ** 24;

/** True when `bytes` starts with the PNG signature. */
export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Decodes an 8-bit, non-interlaced PNG (gray, gray+alpha, RGB, RGBA or palette; what this
 * library and PIL write) to RGBA. For an APNG, the default image (first frame). Checks every
 * chunk's CRC; anything else (16-bit, interlaced, truncated, corrupt, over MAX_DECODE_PIXELS,
 * image data that inflates to more or less than its size) throws IO, before the pixels are allocated.
 */
export function decodePng(bytes: Uint8Array): RgbaImage {
  if (!isPng(bytes)) fail('IO', 'PNG: missing signature', { reason: 'WRONG_FORMAT' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let width = 0, height = 0, type = -1, palette: Uint8Array | null = null, trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let at = 8, ended = false;
  while (at + 12 <= bytes.length && !ended) {
    const len = view.getUint32(at);
    if (at + 12 + len > bytes.length) break;
    const name = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + len);
    if (crc32(bytes.subarray(at + 4, at + 8 + len)) !== view.getUint32(at + 8 + len)) fail('IO', `PNG: bad CRC in ${name}`, { reason: 'MALFORMED' });
    if (name === 'IHDR') {
      width = view.getUint32(at + 8);
      height = view.getUint32(at + 12);
      const depth = data[8]!, interlace = data[12]!;
      type = data[9]!;
      if (depth !== 8 || CHANNELS[type] === undefined || interlace !== 0)
        fail('IO', `PNG: only 8-bit non-interlaced images are read (depth ${depth}, color type ${type}, interlace ${interlace})`, { reason: 'UNSUPPORTED' });
      if (width < 1 || height < 1 || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) fail('IO', `PNG: size ${width}x${height} out of range`, { reason: width < 1 || height < 1 ? 'MALFORMED' : 'TOO_LARGE' });
      if (width * height > MAX_DECODE_PIXELS) fail('IO', `PNG: ${width}x${height} is over the ${MAX_DECODE_PIXELS}-pixel decode limit`, { reason: 'TOO_LARGE' });
    } else if (name === 'PLTE') palette = data;
    else if (name === 'tRNS') trns = data;
    else if (name === 'IDAT') idat.push(data);
    else if (name === 'IEND') ended = true;
    at += 12 + len;
  }
  if (type < 0 || idat.length === 0 || !ended) fail('IO', 'PNG: truncated (no IHDR, IDAT or IEND)', { reason: 'TRUNCATED' });
  const ch = CHANNELS[type]!;
  const stride = width * ch;
  const inflated = inflateExactly(concat(idat), (stride + 1) * height, 'zlib', (reason, problem) => fail('IO', `PNG: image data ${problem} for ${width}x${height}`, { reason }));
  const raw = unfilterScanlines(inflated, stride, height, ch);
  const out = new Uint8ClampedArray(width * height * 4);
  if (type === 6) out.set(raw);
  else for (let p = 0, s = 0; p < out.length; p += 4, s += ch) {
    if (type === 2) {
      out[p] = raw[s]!;
      out[p + 1] = raw[s + 1]!;
      out[p + 2] = raw[s + 2]!;
      out[p + 3] = 255;
    } else if (type === 3) {
      const i = raw[s]!;
      if (!palette || 3 * i + 2 >= palette.length) fail('IO', 'PNG: palette index out of range', { reason: 'MALFORMED' });
      out[p] = palette[3 * i]!;
      out[p + 1] = palette[3 * i + 1]!;
      out[p + 2] = palette[3 * i + 2]!;
      out[p + 3] = trns && i < trns.length ? trns[i]! : 255;
    } else {
      out[p] = out[p + 1] = out[p + 2] = raw[s]!;
      out[p + 3] = type === 4 ? raw[s + 1]! : 255;
    }
  }
  return { width, height, data: out };
}
