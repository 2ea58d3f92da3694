// A real (if crude) LatentDecoder for tests: the linear latent->RGB preview ComfyUI uses,
// rgb = clamp((latent . factors + bias + 1) / 2, 0, 1), shown 8x larger (nearest), as TAESD's
// output is. Plain math on the CPU; the progress tests decode latent steps through it.
import type { DecodeOptions, LatentDecoder, LatentInput, RawImage, RgbaImage } from '../../src/model/decoder.js';
import { MODELS, type ModelSpec } from '../../src/model/registry.js';
import { TaesdError } from '../../src/errors.js';

export class LinearTestDecoder implements LatentDecoder {
  readonly backend = 'linear' as const;
  private destroyed = false;
  /** Latents decoded so far. */
  decodes = 0;

  constructor(readonly model: ModelSpec = MODELS.taesd, readonly upscale = 8) {}

  async decodeRaw(latent: LatentInput, _options?: DecodeOptions): Promise<RawImage> {
    if (this.destroyed) throw new TaesdError('DESTROYED', 'decoder destroyed');
    const shape = latent.shape.length === 4 ? latent.shape.slice(1) : latent.shape;
    const [c, h, w] = shape as [number, number, number];
    if (c !== this.model.latentChannels) throw new TaesdError('LATENT_CHANNELS', `expected ${this.model.latentChannels} channels, got ${c}`);
    const src = latent.data as Float32Array;
    const s = this.upscale, W = w * s, H = h * s;
    const out = new Float32Array(3 * W * H);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < 3; k++) {
          let v = this.model.latentRgbBias[k]!;
          for (let ch = 0; ch < c; ch++) v += src[(ch * h + y) * w + x]! * this.model.latentRgbFactors[ch]![k]!;
          v = (v + 1) / 2;
          for (let dy = 0; dy < s; dy++) out.fill(v, k * W * H + (y * s + dy) * W + x * s, k * W * H + (y * s + dy) * W + x * s + s);
        }
      }
    }
    this.decodes++;
    return { width: W, height: H, data: out };
  }

  async decode(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    const raw = await this.decodeRaw(latent, options);
    const n = raw.width * raw.height;
    const data = new Uint8ClampedArray(n * 4);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < 3; k++) data[i * 4 + k] = Math.round(Math.min(1, Math.max(0, raw.data[k * n + i]!)) * 255);
      data[i * 4 + 3] = 255;
    }
    return { width: raw.width, height: raw.height, data };
  }

  destroy(): void {
    this.destroyed = true;
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
