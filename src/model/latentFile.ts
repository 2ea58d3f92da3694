// Latent files as bytes, with no file system: what the CLI reads from disk and a page gets from a
// drop or a fetch. `.safetensors`/`.latent` (tensor `latent`, ComfyUI's `latent_tensor`, or the only
// tensor), `.pth` (a saved tensor or a dict holding it) and `.npy`.
import { fail } from '../errors.js';
import { readNpyHeader, parseNpy } from '../weights/npy.js';
import { parsePth } from '../weights/pth.js';
import { MAX_HEADER_BYTES, parseSafetensors, readSafetensorsHeader } from '../weights/safetensors.js';
import { describeBytes, firstBytes } from '../weights/sniff.js';
import { MAX_ELEMENTS } from '../weights/tensor.js';
import type { LatentInput, LatentSpace } from './decoderTypes.js';

/** SD1.x's scale, which ComfyUI's LoadLatent divides out of `.latent` files saved before format version 0. */
const LEGACY_LATENT_SCALE = 0.18215;

/** Largest latent file read: MAX_ELEMENTS values as float64 and the largest header. Headers are checked before the body. */
export const MAX_LATENT_FILE_BYTES = MAX_ELEMENTS * 8 + MAX_HEADER_BYTES + 8;

/** Bytes a latent file's header fits in (safetensors' cap; a .npy's is 10 KB): read before the body. */
export const LATENT_HEAD_BYTES = 8 + MAX_HEADER_BYTES;

export interface LatentFile {
  readonly latent: LatentInput;
  /** The space the file's values are in, when the format says so (ComfyUI `.latent`: raw VAE; a step message's `latent_space`). */
  readonly space: LatentSpace | null;
  /** ComfyUI's latent-format class name from the file's `latent_format` metadata (a taesd-web step message), else null. */
  readonly latentFormat: string | null;
}

type FileFormat = 'npy' | 'pth' | 'safetensors';

/** The format a name's extension asks for; BAD_OPTION for another extension. */
function fileFormat(name: string): FileFormat {
  const ext = /\.[^./\\]*$/.exec(name)?.[0].toLowerCase() ?? '';
  if (ext === '.npy') return 'npy';
  // torch.save of the latent tensor itself (taehv's examples) or of a dict holding "latent".
  if (ext === '.pth') return 'pth';
  if (ext !== '.safetensors' && ext !== '.latent') fail('BAD_OPTION', `latent file ${name}: expected .safetensors, .latent, .pth or .npy`);
  return 'safetensors';
}

/**
 * Checks a latent file from its first bytes (`head`, at least LATENT_HEAD_BYTES or the whole
 * file) and its size, before the body is read: what the file is by its magic bytes (a weights
 * checkpoint, an image or a web page is named as such), and the header (dtype, shape, sizes) of
 * the format its extension names. Throws LATENT_CORRUPT, or BAD_OPTION for another extension.
 */
export function checkLatentHead(head: Uint8Array, name: string, size: number): void {
  const format = fileFormat(name);
  const what = describeBytes(head);
  if (format === 'npy') {
    if (what !== 'a NumPy .npy array') refuseKind(name, what, head, 'a NumPy .npy array (\\x93NUMPY magic)');
    readNpyHeader(head, name, size);
    return;
  }
  if (format === 'pth') {
    if (what !== 'a zip archive') refuseKind(name, what, head, 'a PyTorch .pth (a zip archive)');
    return;
  }
  if (size < 9) fail('LATENT_CORRUPT', `${name}: ${size} bytes is too short to be a safetensors file`, { reason: 'TRUNCATED' });
  if (what !== null || head[8] !== 0x7b) refuseKind(name, what, head, 'a safetensors file (an 8-byte length, then a JSON header)');
  readSafetensorsHeader(head, name, 'latent', size);
}

function refuseKind(name: string, what: string | null, head: Uint8Array, expected: string): never {
  const hint = what === 'a zip archive' ? ' (a PyTorch checkpoint? weights go to --weights)' : '';
  fail('LATENT_CORRUPT', `latent file ${name} is ${what ?? `something else (it starts with ${firstBytes(head, 9)})`}${hint}: expected ${expected}`, { reason: 'WRONG_FORMAT' });
}

/**
 * Reads a latent from a file's bytes; `name` picks the format by its extension (`.safetensors`,
 * `.latent`, `.npy`) and names the file in errors. `[C,h,w]`, `[1,C,h,w]` or a batch `[N,C,h,w]`
 * as stored. Throws BAD_OPTION for another extension, LATENT_CORRUPT for a damaged file or one
 * that is something else (see checkLatentHead), LATENT_OUT_OF_RANGE for float64 values float32
 * cannot hold, LATENT_SHAPE when no tensor can be the latent.
 */
export function latentFromFile(bytes: Uint8Array, name: string): LatentFile {
  checkLatentHead(bytes.subarray(0, LATENT_HEAD_BYTES), name, bytes.byteLength);
  if (fileFormat(name) === 'npy') {
    const a = parseNpy(bytes, name);
    return { latent: { data: a.data, shape: a.shape }, space: null, latentFormat: null };
  }
  const { tensors, metadata } = fileFormat(name) === 'pth' ? { tensors: parsePth(bytes, name), metadata: {} as Record<string, string> } : parseSafetensors(bytes, name, 'latent');
  const latentFormat = metadata['latent_format'] || null;
  const comfy = tensors.get('latent_tensor');
  if (comfy) {
    const legacy = !tensors.has('latent_format_version_0');
    const data = legacy ? comfy.data.map((v) => v / LEGACY_LATENT_SCALE) : comfy.data;
    return { latent: { data, shape: comfy.shape }, space: 'vae', latentFormat };
  }
  const t = tensors.get('latent') ?? (tensors.size === 1 ? [...tensors.values()][0] : undefined);
  if (!t) fail('LATENT_SHAPE', `latent file ${name} has no tensor named "latent" or "latent_tensor" (found: ${[...tensors.keys()].join(', ') || 'none'})`);
  const space = metadata['latent_space'];
  return { latent: { data: t.data, shape: t.shape }, space: space === 'model' || space === 'vae' ? space : null, latentFormat };
}
