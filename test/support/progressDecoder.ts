// The real linear backend, 8x upscaled like TAESD's output, counting its decodes: what the
// progress tests decode latent steps through.
import { createLinearDecoder } from '../../src/fallback/linear.js';
import type { DecodeOptions, LatentDecoder, LatentInput } from '../../src/model/decoderTypes.js';
import { MODELS, type ModelSpec } from '../../src/model/registry.js';
import type { RawImage, RgbaImage } from '../../src/model/rgba.js';

export class LinearTestDecoder implements LatentDecoder {
  readonly backend = 'linear' as const;
  /** Latents decoded so far. */
  decodes = 0;
  private readonly linear: LatentDecoder;

  constructor(readonly model: ModelSpec = MODELS.taesd) {
    this.linear = createLinearDecoder(model, { upscale: 8 });
  }

  async decodeRaw(latent: LatentInput, options?: DecodeOptions): Promise<RawImage> {
    const raw = await this.linear.decodeRaw(latent, options);
    this.decodes++;
    return raw;
  }

  async decode(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    const image = await this.linear.decode(latent, options);
    this.decodes++;
    return image;
  }

  async decodeBatch(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage[]> {
    const images = await this.linear.decodeBatch(latent, options);
    this.decodes += images.length;
    return images;
  }

  async decodeRawBatch(latent: LatentInput, options?: DecodeOptions): Promise<RawImage[]> {
    const images = await this.linear.decodeRawBatch(latent, options);
    this.decodes += images.length;
    return images;
  }

  destroy(): void {
    this.linear.destroy();
  }
}

/** A `[4,h,w]` latent whose preview is a smooth field that drifts with `step`. */
export function syntheticLatent(h: number, w: number, step: number): LatentInput {
  const data = new Float32Array(4 * h * w);
  for (let c = 0; c < 4; c++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) data[(c * h + y) * w + x] = Math.sin((x + step) / 3 + c) * Math.cos((y - step) / 4 + c * 0.5);
  return { data, shape: [4, h, w] };
}
