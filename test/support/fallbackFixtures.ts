// Real weights and golden decodes from ../shared, for the fallback backends' tests.
import { readFileSync } from 'node:fs';
import type { RawImage } from '../../src/model/rgba.js';
import { resolveDecoderWeights, type DecoderWeights } from '../../src/model/weights.js';
import { loadStateDict } from '../../src/weights/load.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { golden, TAEF2_SAFETENSORS } from './shared.js';

export interface Golden {
  /** `[C,h,w]`, as the sampler would hand it over. */
  readonly latent: { readonly data: Float32Array; readonly shape: readonly number[] };
  /** The reference decoder's raw output. */
  readonly image: RawImage;
}

/** One of ../shared/golden/*.safetensors (`latent` [C,h,w], `image` [3,8h,8w]). */
export function readGolden(name: string): Golden {
  const { tensors } = parseSafetensors(new Uint8Array(readFileSync(golden(name))), name);
  const latent = tensors.get('latent')!;
  const image = tensors.get('image')!;
  return {
    latent: { data: latent.data, shape: latent.shape },
    image: { width: image.shape[2]!, height: image.shape[1]!, data: image.data },
  };
}

/** The real taef2 decoder, through the project's own loader. */
export async function taef2Weights(): Promise<DecoderWeights> {
  const { dict, name } = await loadStateDict(TAEF2_SAFETENSORS);
  return resolveDecoderWeights(dict, { sourceName: name });
}
