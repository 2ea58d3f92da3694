// The front door for weights: bytes from a path, URL or buffer, parsed by the format they hold.
import { readCappedBody, readRegularFile } from '../boundedRead.js';
import { fail, isTaesdError } from '../errors.js';
import { importNodeOnly, isNode } from '../platform.js';
import { fetchWatched, type DownloadOptions } from './download.js';
import { parsePth } from './pth.js';
import { MAX_HEADER_BYTES, parseSafetensors, readSafetensorsHeader } from './safetensors.js';
import { describeBytes, firstBytes } from './sniff.js';
import type { StateDict } from './tensor.js';

/** A file path (Node) or relative URL (browser), a URL, or the file's bytes. */
export type WeightsSource = string | URL | ArrayBuffer | Uint8Array;

const URL_SCHEME = /^(?:https?|data|blob|file):/i;

/** Largest weights file read: the biggest TAESD decoder (taesana in float32) is ~35 MB. */
export const MAX_WEIGHTS_FILE_BYTES = 256 << 20;

const tooLarge = (name: string, bytes: number) => fail('WEIGHTS_CORRUPT', `${name}: ${bytes} bytes is over the ${MAX_WEIGHTS_FILE_BYTES}-byte limit for decoder weights`, { reason: 'TOO_LARGE' });

/** A weights file from disk: refused from its size, its magic bytes and (safetensors) its header before the body is read. */
async function readFile(path: string, name: string): Promise<{ bytes: Uint8Array; name: string }> {
  const bytes = await readRegularFile(path, 'weights file', {
    maxBytes: MAX_WEIGHTS_FILE_BYTES,
    tooLarge: (size) => tooLarge(path, size),
    headBytes: 8 + MAX_HEADER_BYTES,
    checkHead: (head, size) => {
      if (size < 8) fail('WEIGHTS_CORRUPT', `${path}: ${size} bytes is too short to be a weights file`, { reason: 'TRUNCATED' });
      if (weightsFormat(head, path) === 'safetensors') readSafetensorsHeader(head, path, 'weights', size);
    },
  });
  return { bytes, name };
}

/** Downloads weights within MAX_WEIGHTS_FILE_BYTES and the idle timeout (see fetchWatched). */
export async function fetchBytes(url: string, name: string, o: DownloadOptions = {}): Promise<{ bytes: Uint8Array; name: string }> {
  let response: Response;
  try {
    response = await fetchWatched(url, name, o);
  } catch (e) {
    fail('IO', `cannot fetch ${name}: ${(e as Error).message}`, { cause: e });
  }
  if (!response.ok) fail('IO', `fetching ${name} failed: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  try {
    return { bytes: await readCappedBody(response, MAX_WEIGHTS_FILE_BYTES, (bytes) => tooLarge(name, bytes)), name };
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `download of ${name} broke off: ${(e as Error).message}`, { cause: e });
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
    fail('IO', `not a valid URL: ${String(source).slice(0, 200)}`, { cause: e });
  }
  const name = url.protocol === 'data:' ? 'data: URL' : url.href;
  if (url.protocol === 'file:' && isNode) {
    const { fileURLToPath } = await importNodeOnly<typeof import('node:url')>('node:url');
    return readFile(fileURLToPath(url), name);
  }
  return fetchBytes(url.href, name);
}

/**
 * Which weights format `bytes` (a whole file, or its first bytes) hold by their magic bytes: a
 * zip (`PK\x03\x04`) is a PyTorch checkpoint, a JSON header at byte 8 is safetensors; anything
 * else (an image, a web page, text, a latent) is named in a WEIGHTS_CORRUPT error.
 */
function weightsFormat(bytes: Uint8Array, name: string): 'pth' | 'safetensors' {
  if (bytes.byteLength < 8) fail('WEIGHTS_CORRUPT', `${name}: ${bytes.byteLength} bytes is too short to be a weights file`, { reason: 'TRUNCATED' });
  const what = describeBytes(bytes);
  if (what === 'a zip archive') return 'pth';
  if (what === 'a legacy (pre-1.6) torch.save file') {
    fail('WEIGHTS_CORRUPT', `${name}: a legacy (pre-1.6, non-zip) torch.save file; re-save it with a current PyTorch or convert it to safetensors`, { reason: 'UNSUPPORTED' });
  }
  if (what !== null) fail('WEIGHTS_CORRUPT', `${name} is ${what}, not decoder weights: expected a .safetensors file or a PyTorch checkpoint (.pth, a zip)`, { reason: 'WRONG_FORMAT' });
  if (bytes.byteLength > 8 && bytes[8] !== 0x7b) {
    fail('WEIGHTS_CORRUPT', `${name} is not decoder weights: expected a .safetensors file (an 8-byte length, then a JSON header) or a PyTorch checkpoint (.pth, a zip), but it starts with ${firstBytes(bytes, 9)}`, { reason: 'WRONG_FORMAT' });
  }
  return 'safetensors';
}

/**
 * Parses weights by their magic bytes (see weightsFormat). `name` (default `"weights"`) names
 * the file in errors; `maxElements` raises a checkpoint's element cap (see parsePth). Throws WEIGHTS_CORRUPT (or WEIGHTS_UNSAFE for a hostile pickle).
 */
export function parseWeights(bytes: Uint8Array, name = 'weights', maxElements?: number): StateDict {
  return weightsFormat(bytes, name) === 'pth' ? parsePth(bytes, name, maxElements) : parseSafetensors(bytes, name).tensors;
}

/** Reads and parses weights from any source; `name` is the source's path or URL (see readSource). */
export async function loadStateDict(source: WeightsSource): Promise<{ dict: StateDict; name: string }> {
  const { bytes, name } = await readSource(source);
  return { dict: parseWeights(bytes, name), name };
}
