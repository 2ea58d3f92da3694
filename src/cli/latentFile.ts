import { fail } from '../errors.js';
import { checkLatentHead, LATENT_HEAD_BYTES, latentFromFile, MAX_LATENT_FILE_BYTES, type LatentFile } from '../model/latentFile.js';
import { readRegularFile } from '../boundedRead.js';

export type { LatentFile };

/**
 * Reads a latent from `.safetensors`/`.latent` (tensor `latent`, ComfyUI's `latent_tensor`, or
 * the only tensor) or `.npy` on disk (see latentFromFile). Devices, FIFOs and files over
 * MAX_LATENT_FILE_BYTES are refused before reading; the header is checked before the body.
 */
export async function readLatentFile(path: string): Promise<LatentFile> {
  const bytes = await readRegularFile(path, 'latent file', {
    maxBytes: MAX_LATENT_FILE_BYTES,
    tooLarge: (size) => fail('LATENT_CORRUPT', `latent file ${path}: ${size} bytes is over the ${MAX_LATENT_FILE_BYTES}-byte limit for latent files`, { reason: 'TOO_LARGE' }),
    headBytes: LATENT_HEAD_BYTES,
    checkHead: (head, size) => checkLatentHead(head, path, size),
  });
  return latentFromFile(bytes, path);
}
