import { fail } from '../errors.js';
import type { RgbaImage } from '../model/decoder.js';
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
    fail('IO', 'JPEG: MozJPEG failed to encode', e);
  }
}

/** True when `bytes` starts with a JPEG SOI marker. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** Decodes a JPEG to RGBA: the browser's decoder where there is a canvas, else MozJPEG (wasm). Corrupt data throws IO. */
export async function decodeJpeg(bytes: Uint8Array): Promise<RgbaImage> {
  if (!isJpeg(bytes)) fail('IO', 'JPEG: missing SOI marker');
  try {
    const viaCanvas = await canvasDecode(bytes, 'image/jpeg');
    if (viaCanvas) return viaCanvas;
    const decode = await loadDecoder();
    const copy = bytes.slice().buffer;
    const { data, width, height } = await decode(copy);
    return { width, height, data: new Uint8ClampedArray(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    fail('IO', 'JPEG: cannot decode', e);
  }
}
