import { zlibSync } from 'fflate';
import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { checkImage, isOpaque } from './image.js';
import { chunk, concat, filterScanlines, ihdr, PNG_SIGNATURE } from './pngChunks.js';

export interface PngOptions {
  /**
   * Write an alpha channel (RGBA, color type 6) or not (RGB, type 2).
   * Default: only when some pixel has alpha < 255 (decoder output is opaque, so RGB).
   */
  readonly alpha?: boolean;
  /**
   * zlib level 0..9 (default 3). Measured on 512x512 previews: level 1 ~1 % larger and a little
   * faster, level 6 < 1 % smaller for ~1.3x the time; 0 stores uncompressed (~1.5-2.5x larger).
   */
  readonly level?: number;
}

/** Checks a zlib level option (integer 0..9). */
export function checkLevel(level: number): 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 {
  if (!Number.isInteger(level) || level < 0 || level > 9) fail('BAD_OPTION', `PNG level must be an integer 0..9, got ${level}`);
  return level as 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
}

/**
 * Encodes an 8-bit PNG (RGB or RGBA, non-interlaced, adaptive row filters, zlib via fflate).
 * Synchronous and identical in browsers and Node; lossless: decoding gives back `image` exactly
 * (the RGB channels, and alpha when written).
 */
export function encodePng(image: RgbaImage, options: PngOptions = {}): Uint8Array {
  checkImage(image);
  const alpha = options.alpha ?? !isOpaque(image);
  const level = checkLevel(options.level ?? 3);
  const raw = filterScanlines(image.data, image.width, image.height, alpha);
  return concat([
    PNG_SIGNATURE,
    chunk('IHDR', ihdr(image.width, image.height, alpha)),
    chunk('IDAT', zlibSync(raw, { level })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}
