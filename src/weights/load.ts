// The front door for weights: bytes from a path, URL or buffer, parsed by the format they hold.
import { readCappedBody } from '../body.js';
import { fail, isTaesdError } from '../errors.js';
import { importNodeOnly, isNode } from '../platform.js';
import { fetchWatched, type DownloadOptions } from './download.js';
import { parsePth } from './pth.js';
import { parseSafetensors } from './safetensors.js';
import type { StateDict } from './tensor.js';

/** A file path (Node) or relative URL (browser), a URL, or the file's bytes. */
export type WeightsSource = string | URL | ArrayBuffer | Uint8Array;

const URL_SCHEME = /^(?:https?|data|blob|file):/i;

/** Largest weights file read: the biggest TAESD decoder (taesana in float32) is ~35 MB. */
export const MAX_WEIGHTS_FILE_BYTES = 256 << 20;

const tooLarge = (name: string, bytes: number) => fail('WEIGHTS_CORRUPT', `${name}: ${bytes} bytes is over the ${MAX_WEIGHTS_FILE_BYTES}-byte limit for decoder weights`);

async function readFile(path: string, name: string): Promise<{ bytes: Uint8Array; name: string }> {
  const fs = await importNodeOnly<typeof import('node:fs/promises')>('node:fs/promises');
  try {
    const { size } = await fs.stat(path);
    if (size > MAX_WEIGHTS_FILE_BYTES) tooLarge(path, size);
    const buf = await fs.readFile(path);
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), name };
  } catch (e) {
    if (isTaesdError(e)) throw e;
    const code = (e as { code?: unknown }).code;
    fail('IO', code === 'ENOENT' ? `weights file not found: ${path}` : `cannot read weights file ${path}: ${(e as Error).message}`, e);
  }
}

/** Downloads weights within MAX_WEIGHTS_FILE_BYTES and the idle timeout (see fetchWatched). */
export async function fetchBytes(url: string, name: string, o: DownloadOptions = {}): Promise<{ bytes: Uint8Array; name: string }> {
  let response: Response;
  try {
    response = await fetchWatched(url, name, o);
  } catch (e) {
    fail('IO', `cannot fetch ${name}: ${(e as Error).message}`, e);
  }
  if (!response.ok) fail('IO', `fetching ${name} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  try {
    return { bytes: await readCappedBody(response, MAX_WEIGHTS_FILE_BYTES, (bytes) => tooLarge(name, bytes)), name };
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `download of ${name} broke off: ${(e as Error).message}`, e);
  }
}

/**
 * Reads the bytes of a weights source. Buffers are used as they are (name `"buffer"`, not
 * copied); `http:`, `https:`, `data:` and `blob:` URLs are fetched; `file:` URLs and other
 * strings are read from disk in Node, and fetched as (relative) URLs in a browser. `name` is
 * the path or URL, for messages and model detection. Throws IO when reading fails.
 */
export async function readSource(source: WeightsSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'buffer' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'buffer' };
  if (typeof source === 'string' && !URL_SCHEME.test(source)) {
    return isNode ? readFile(source, source) : fetchBytes(source, source);
  }
  let url: URL;
  try {
    url = typeof source === 'string' ? new URL(source) : source;
  } catch (e) {
    fail('IO', `not a valid URL: ${String(source).slice(0, 200)}`, e);
  }
  const name = url.protocol === 'data:' ? 'data: URL' : url.href;
  if (url.protocol === 'file:' && isNode) {
    const { fileURLToPath } = await importNodeOnly<typeof import('node:url')>('node:url');
    return readFile(fileURLToPath(url), name);
  }
  return fetchBytes(url.href, name);
}

/**
 * Parses weights by their magic bytes: a zip (`PK\x03\x04`) is a PyTorch checkpoint, anything
 * else is read as safetensors. `name` (default `"weights"`) names the file in errors.
 * Throws WEIGHTS_CORRUPT (or WEIGHTS_UNSAFE for a hostile pickle).
 */
export function parseWeights(bytes: Uint8Array, name = 'weights', maxElements?: number): StateDict {
  if (bytes.byteLength < 8) fail('WEIGHTS_CORRUPT', `${name}: ${bytes.byteLength} bytes is too short to be a weights file`);
  const [b0, b1, b2, b3] = bytes;
  if (b0 === 0x50 && b1 === 0x4b && b2 === 0x03 && b3 === 0x04) return parsePth(bytes, name, maxElements);
  // Pickle protocol 2 + torch's legacy magic number: the pre-1.6 format, which has no zip.
  if (b0 === 0x80 && b1 === 0x02 && b2 === 0x8a && b3 === 0x0a) {
    fail('WEIGHTS_CORRUPT', `${name}: a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch or convert it to safetensors`);
  }
  return parseSafetensors(bytes, name).tensors;
}

/** Reads and parses weights from any source; `name` is the source's path or URL (see readSource). */
export async function loadStateDict(source: WeightsSource): Promise<{ dict: StateDict; name: string }> {
  const { bytes, name } = await readSource(source);
  return { dict: parseWeights(bytes, name), name };
}
