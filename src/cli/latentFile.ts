import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fail } from '../errors.js';
import type { LatentInput, LatentSpace } from '../model/decoder.js';
import { parseNpy } from '../weights/npy.js';
import { parseSafetensors } from '../weights/safetensors.js';

/** SD1.x's scale, which ComfyUI's LoadLatent divides out of `.latent` files saved before format version 0. */
const LEGACY_LATENT_SCALE = 0.18215;

export interface LatentFile {
  readonly latent: LatentInput;
  /** The space the file's values are in, when the format says so (ComfyUI `.latent`: raw VAE). */
  readonly space: LatentSpace | null;
}

/**
 * Reads a latent from `.safetensors`/`.latent` (tensor `latent`, ComfyUI's `latent_tensor`, or
 * the only tensor) or `.npy`.
 */
export async function readLatentFile(path: string): Promise<LatentFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    fail('IO', `cannot read latent file ${path}: ${(e as Error).message}`, e);
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.npy') {
    const a = parseNpy(bytes, path);
    return { latent: { data: a.data, shape: a.shape }, space: null };
  }
  if (ext !== '.safetensors' && ext !== '.latent') fail('BAD_OPTION', `latent file ${path}: expected .safetensors, .latent or .npy`);
  const { tensors } = parseSafetensors(bytes, path);
  const comfy = tensors.get('latent_tensor');
  if (comfy) {
    const legacy = !tensors.has('latent_format_version_0');
    const data = legacy ? comfy.data.map((v) => v / LEGACY_LATENT_SCALE) : comfy.data;
    return { latent: { data, shape: comfy.shape }, space: 'vae' };
  }
  const t = tensors.get('latent') ?? (tensors.size === 1 ? [...tensors.values()][0] : undefined);
  if (!t) fail('LATENT_SHAPE', `latent file ${path} has no tensor named "latent" or "latent_tensor" (found: ${[...tensors.keys()].join(', ') || 'none'})`);
  return { latent: { data: t.data, shape: t.shape }, space: null };
}
