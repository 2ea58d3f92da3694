import { fail } from '../errors.js';
import { MAX_DECODE_PIXELS } from './pngDecode.js';
import type { RgbaImage } from '../model/rgba.js';
import { checkImage, isOpaque } from './image.js';
import { canvasDecode, canvasEncode, hasCanvasCodec, nodeWasmModule } from './platform.js';

export interface JpegOptions {
  /** 1..100 (default 85, the ComfyUI node's). Higher: larger files, fewer artefacts. */
  readonly quality?: number;
  /**
   * Which encoder: `'auto'` (default) the platform's where `OffscreenCanvas` exists, else
   * MozJPEG (wasm); `'platform'` or `'mozjpeg'` to force one (`'platform'` throws IO without a canvas).
   */
  readonly encoder?: 'auto' | 'platform' | 'mozjpeg';
}

/** The codec functions of @jsquash/jpeg's encode/decode modules (their .d.ts omits `init(module)`, which the JS has). */
interface MozjpegEncodeModule {
  default(data: ImageData, options?: Readonly<Record<string, number | boolean>>): Promise<ArrayBuffer>;
}
interface MozjpegDecodeModule {
  default(data: ArrayBuffer): Promise<{ data: Uint8ClampedArray; width: number; height: number }>;
}

/**
 * Loads a @jsquash codec once (in Node, its wasm is read from disk); a failed load is retried on
 * the next call. `load` is a thunk so bundlers still see each import's literal path.
 */
function lazyCodec<F>(load: () => Promise<unknown>, nodeWasm: string): () => Promise<F> {
  let codec: Promise<F> | undefined;
  return () => {
    codec ??= (async () => {
      const mod = (await load()) as { init(module: WebAssembly.Module): Promise<void>; default: F };
      const wasm = await nodeWasmModule(nodeWasm);
      if (wasm) await mod.init(wasm);
      return mod.default;
    })();
    codec.catch(() => (codec = undefined));
    return codec;
  };
}

const loadEncoder = lazyCodec<MozjpegEncodeModule['default']>(() => import('@jsquash/jpeg/encode.js'), '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm');
const loadDecoder = lazyCodec<MozjpegDecodeModule['default']>(() => import('@jsquash/jpeg/decode.js'), '@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');

function withOpaqueAlpha(image: RgbaImage): RgbaImage {
  const data = new Uint8ClampedArray(image.data);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width: image.width, height: image.height, data };
}

/** Checks a JPEG quality option (integer 1..100). */
export function checkQuality(quality: number): number {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) fail('BAD_OPTION', `JPEG quality must be an integer 1..100, got ${quality}`);
  return quality;
}

/**
 * Encodes a baseline JPEG; alpha is ignored (pixels taken as opaque). In browsers: `OffscreenCanvas.convertToBlob`.
 * In Node and canvas-less places: MozJPEG compiled to wasm (@jsquash/jpeg), baseline with
 * optimised Huffman tables and 4:2:0 chroma (4:4:4 from quality 90), ~60 ms and ~80 KB for a
 * 512x512 photo-like image at 85; the wasm (250 KB) loads on first use.
 */
export async function encodeJpeg(image: RgbaImage, options: JpegOptions = {}): Promise<Uint8Array> {
  checkImage(image);
  const quality = checkQuality(options.quality ?? 85);
  const which = options.encoder ?? 'auto';
  if (which === 'platform' || (which === 'auto' && hasCanvasCodec())) {
    if (!hasCanvasCodec()) fail('IO', 'JPEG: no OffscreenCanvas here for the platform encoder');
    // A canvas would composite translucent pixels over black; MozJPEG ignores alpha. Match it.
    return canvasEncode(isOpaque(image) ? image : withOpaqueAlpha(image), 'image/jpeg', quality / 100);
  }
  const encode = await loadEncoder();
  const input = { data: image.data, width: image.width, height: image.height, colorSpace: 'srgb' } as ImageData;
  try {
    return new Uint8Array(await encode(input, { quality, baseline: true, progressive: false, optimize_coding: true }));
  } catch (e) {
    fail('IO', 'JPEG: MozJPEG failed to encode', { cause: e });
  }
}

/** True when `bytes` starts with a JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Width and height from a JPEG's frame header (SOF marker), read before anything is decoded; null when there is none. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  let at = 2;
  while (at + 9 <= bytes.length) {
    if (bytes[at] !== 0xff) return null;
    const marker = bytes[at + 1]!;
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xd9 || marker === 0xda) return null; // end of image, or scan data before any frame header
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    // SOF0..SOF15, except DHT (c4), JPG (c8) and DAC (cc), which share the range.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: (bytes[at + 5]! << 8) | bytes[at + 6]!, width: (bytes[at + 7]! << 8) | bytes[at + 8]! };
    }
    at += 2 + length;
  }
  return null;
}

/**
 * Decodes a JPEG to RGBA: the browser's decoder where there is a canvas, else MozJPEG (wasm).
 * Its declared size is checked first (at most MAX_DECODE_PIXELS); corrupt data throws IO.
 */
export async function decodeJpeg(bytes: Uint8Array): Promise<RgbaImage> {
  if (!isJpeg(bytes)) fail('IO', 'JPEG: missing SOI marker', { reason: 'WRONG_FORMAT' });
  const size = jpegSize(bytes) ?? fail('IO', 'JPEG: no frame header (SOF) before the image data', { reason: 'MALFORMED' });
  if (size.width < 1 || size.height < 1 || size.width * size.height > MAX_DECODE_PIXELS) fail('IO', `JPEG: ${size.width}x${size.height} is outside the decode limit of ${MAX_DECODE_PIXELS} pixels`, { reason: size.width < 1 || size.height < 1 ? 'MALFORMED' : 'TOO_LARGE' });
  try {
    const viaCanvas = await canvasDecode(bytes, 'image/jpeg');
    if (viaCanvas) return viaCanvas;
    const decode = await loadDecoder();
    const copy = bytes.slice().buffer;
    const { data, width, height } = await decode(copy);
    return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    fail('IO', 'JPEG: cannot decode', { cause: e });
  }
}
