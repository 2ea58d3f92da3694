// Latent files as bytes, with no file system: what the CLI reads from disk and a page gets from a
// drop or a fetch. `.safetensors`/`.latent` (tensor `latent`, ComfyUI's `latent_tensor`, or the only
// tensor), `.pth` (a saved tensor or dict) and `.npy`.
import { fail } from '../errors.js';
import { parseNpy } from '../weights/npy.js';
import { parsePth } from '../weights/pth.js';
import { parseSafetensors } from '../weights/safetensors.js';
import type { LatentInput, LatentSpace } from './decoder.js';

/** SD1.x's scale, which ComfyUI's LoadLatent divides out of `.latent` files saved before format version 0. */
const LEGACY_LATENT_SCALE = 0.18215;

export interface LatentFile {
  readonly latent: LatentInput;
  /** The space the file's values are in, when the format says so (ComfyUI `.latent`: raw VAE). */
  readonly space: LatentSpace | null;
  /** ComfyUI's latent-format class name from the file's `latent_format` metadata (a taesd-web step message), else null. */
  readonly latentFormat: string | null;
}

/**
 * Reads a latent from a file's bytes; `name` picks the format by its extension (`.safetensors`,
 * `.latent`, `.npy`) and names the file in errors. `[C,h,w]`, `[1,C,h,w]` or a batch `[N,C,h,w]`
 * as stored. Throws BAD_OPTION for another extension, WEIGHTS_CORRUPT for a damaged file,
 * LATENT_SHAPE when no tensor can be the latent.
 */
export function latentFromFile(bytes: Uint8Array, name: string): LatentFile {
  const ext = /\.[^./\\]*$/.exec(name)?.[0].toLowerCase() ?? '';
  if (ext === '.npy') {
    const a = parseNpy(bytes, name);
    return { latent: { data: a.data, shape: a.shape }, space: null, latentFormat: null };
  }
  if (ext !== '.safetensors' && ext !== '.latent' && ext !== '.pth') fail('BAD_OPTION', `latent file ${name}: expected .safetensors, .latent, .pth or .npy`);
  // .pth: torch.save of the latent tensor itself (taehv's examples) or of a dict holding "latent".
  const { tensors, metadata } = ext === '.pth' ? { tensors: parsePth(bytes, name), metadata: {} as Record<string, string> } : parseSafetensors(bytes, name);
  const latentFormat = metadata['latent_format'] || null;
  const comfy = tensors.get('latent_tensor');
  if (comfy) {
    const legacy = !tensors.has('latent_format_version_0');
    const data = legacy ? comfy.data.map((v) => v / LEGACY_LATENT_SCALE) : comfy.data;
    return { latent: { data, shape: comfy.shape }, space: 'vae', latentFormat };
  }
  const t = tensors.get('latent') ?? (tensors.size === 1 ? [...tensors.values()][0] : undefined);
  if (!t) fail('LATENT_SHAPE', `latent file ${name} has no tensor named "latent" or "latent_tensor" (found: ${[...tensors.keys()].join(', ') || 'none'})`);
  return { latent: { data: t.data, shape: t.shape }, space: null, latentFormat };
}
