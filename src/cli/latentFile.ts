import { readFile } from 'node:fs/promises';
import { fail } from '../errors.js';
import { latentFromFile, type LatentFile } from '../model/latentFile.js';

export type { LatentFile };

/**
 * Reads a latent from `.safetensors`/`.latent` (tensor `latent`, ComfyUI's `latent_tensor`, or
 * the only tensor) or `.npy` on disk (see latentFromFile).
 */
export async function readLatentFile(path: string): Promise<LatentFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    fail('IO', `cannot read latent file ${path}: ${(e as Error).message}`, e);
  }
  return latentFromFile(bytes, path);
}
