// The one place where browsers and Node differ for images: the platform's canvas codec when
// there is one, and how a wasm codec's binary is found when there is no fetchable URL.
import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { importNodeOnly, isNode } from '../platform.js';

/** True where `OffscreenCanvas` can encode (browsers, their workers); false in Node. */
export function hasCanvasCodec(): boolean {
  return typeof OffscreenCanvas === 'function' && typeof OffscreenCanvas.prototype.convertToBlob === 'function';
}

function imageData(image: RgbaImage): ImageData {
  // ImageData needs a plain (non-shared) ArrayBuffer; copy anything else.
  const data = image.data.buffer instanceof ArrayBuffer ? (image.data as Uint8ClampedArray<ArrayBuffer>) : new Uint8ClampedArray(image.data);
  return new ImageData(data, image.width, image.height);
}

/** Encodes with the browser's own codec (`OffscreenCanvas.convertToBlob`); `quality` in 0..1. */
export async function canvasEncode(image: RgbaImage, type: 'image/jpeg' | 'image/png', quality?: number): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) fail('IO', 'OffscreenCanvas: no 2d context to encode with');
  ctx.putImageData(imageData(image), 0, 0);
  const blob = await canvas.convertToBlob(quality === undefined ? { type } : { type, quality });
  return new Uint8Array(await blob.arrayBuffer());
}

/** Decodes any image the browser reads (`createImageBitmap`) to RGBA; null where there is no canvas. */
export async function canvasDecode(bytes: Uint8Array, type: string): Promise<RgbaImage | null> {
  if (!hasCanvasCodec() || typeof createImageBitmap !== 'function') return null;
  const bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }), {
    premultiplyAlpha: 'none',
    colorSpaceConversion: 'none',
  });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) fail('IO', 'OffscreenCanvas: no 2d context to decode with');
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data };
}

/**
 * In Node: the compiled wasm file that `specifier` (a package path) names, read from disk,
 * since Node's fetch cannot load the file: URL emscripten glue asks for. Elsewhere: null (the
 * glue fetches the file itself, next to its script, as bundlers expect).
 */
export async function nodeWasmModule(specifier: string): Promise<WebAssembly.Module | null> {
  if (!isNode) return null;
  const { readFile } = await importNodeOnly<typeof import('node:fs/promises')>('node:fs/promises');
  const { createRequire } = await importNodeOnly<typeof import('node:module')>('node:module');
  try {
    return await WebAssembly.compile(await readFile(createRequire(import.meta.url).resolve(specifier)));
  } catch (e) {
    fail('IO', `cannot load ${specifier}`, { cause: e });
  }
}
