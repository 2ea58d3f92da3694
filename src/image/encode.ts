import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { decodeJpeg, encodeJpeg, isJpeg } from './jpeg.js';
import { encodePng } from './png.js';
import { decodePng, isPng } from './pngDecode.js';

/** The two file formats previews are written in. */
export type ImageFormat = 'jpeg' | 'png';

/** File extension per format, as the ComfyUI node names its files (`step_0000.jpeg`). */
export const FORMAT_EXTENSION: Readonly<Record<ImageFormat, string>> = { jpeg: 'jpeg', png: 'png' };

/** MIME type per format. */
export const FORMAT_MIME: Readonly<Record<ImageFormat, string>> = { jpeg: 'image/jpeg', png: 'image/png' };

export interface EncodeImageOptions {
  readonly format: ImageFormat;
  /** JPEG quality 1..100 (default 85); ignored for PNG. */
  readonly quality?: number;
  /** PNG zlib level 0..9 (default 3); ignored for JPEG. */
  readonly level?: number;
}

/** The image formats, PNG first as the CLI's messages list them. */
export const IMAGE_FORMATS: readonly ImageFormat[] = ['png', 'jpeg'];

/** Whether `format` is an image format: the one test the library's options and the CLI's `--format` share. */
export function isImageFormat(format: unknown): format is ImageFormat {
  return format === 'jpeg' || format === 'png';
}

/** Checks an image format option. */
export function checkFormat(format: string): ImageFormat {
  if (!isImageFormat(format)) fail('BAD_OPTION', `format must be "jpeg" or "png", got ${JSON.stringify(format)}`);
  return format;
}

/** Encodes `image` as PNG or JPEG. */
export async function encodeImage(image: RgbaImage, options: EncodeImageOptions): Promise<Uint8Array> {
  const format = checkFormat(options.format);
  if (format === 'png') return encodePng(image, options.level === undefined ? {} : { level: options.level });
  return encodeJpeg(image, options.quality === undefined ? {} : { quality: options.quality });
}

/** The format of encoded bytes, from their signature; null if neither PNG nor JPEG. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  return isPng(bytes) ? 'png' : isJpeg(bytes) ? 'jpeg' : null;
}

/** Decodes PNG or JPEG bytes (told apart by signature) to RGBA; anything else throws IO. */
export async function decodeImage(bytes: Uint8Array): Promise<RgbaImage> {
  const format = sniffFormat(bytes);
  if (format === 'png') return decodePng(bytes);
  if (format === 'jpeg') return decodeJpeg(bytes);
  fail('IO', 'not a PNG or JPEG file', { reason: 'WRONG_FORMAT' });
}
