// The cheapest preview: each latent pixel's channels times a C x 3 matrix, as ComfyUI's
// Latent2RGBPreviewer does (comfy/latent_preview.py; factors and bias from comfy/latent_formats.py,
// copied with their source commits into src/model/families.ts). shaders/latent_rgb.wgsl is its GPU twin.
import { fail } from '../errors.js';
import type { AnyLatentInput, DecodeOptions, BackendDecoder, DecoderCapabilities, LatentSpace } from '../model/decoderTypes.js';
import { expectCpuLatent, latentItem, prepareLatent, type Latent } from '../model/latent.js';
import { rgbFactors, type LinearModel, type ModelSpec } from '../model/registry.js';
import type { RawImage, RgbaImage } from '../model/rgba.js';
import { rawToRgba } from '../model/rgba.js';
import { DecoderSurface } from '../model/surface.js';

/**
 * `rgb = clamp((latent . factors + bias + 1) / 2, 0, 1)` per pixel, as planar float `[3,h,w]` at
 * latent resolution. `latent` is one prepared latent (`prepareLatent`: FLUX.2's 128 channels unpacked to 32).
 * Cost: 3 multiply-adds per channel and pixel; a 64x64 taef2 latent takes ~1 ms, 128x128 ~4 ms.
 */
export function latent2rgbRaw(latent: Latent, model: LinearModel): RawImage {
  const { channels, height, width, data } = latent;
  const family = model.latent;
  if (channels !== family.channels) fail('LATENT_CHANNELS', `latent has ${channels} channels; the ${family.id} preview takes ${family.channels}`);
  const factors = rgbFactors(model);
  const [br, bg, bb] = family.rgbBias;
  const fr = Float64Array.from(factors, (f) => f[0]);
  const fg = Float64Array.from(factors, (f) => f[1]);
  const fb = Float64Array.from(factors, (f) => f[2]);
  const unit = (v: number) => Math.min(1, Math.max(0, (v + 1) / 2));
  const n = height * width;
  const out = new Float32Array(3 * n);
  for (let i = 0; i < n; i++) {
    let r = br, g = bg, b = bb;
    for (let c = 0, at = i; c < channels; c++, at += n) {
      const v = data[at]!;
      r += v * fr[c]!;
      g += v * fg[c]!;
      b += v * fb[c]!;
    }
    out[i] = unit(r);
    out[n + i] = unit(g);
    out[2 * n + i] = unit(b);
  }
  return { width, height, data: out };
}

/** `latent2rgbRaw` as 8-bit RGBA at latent resolution (what ComfyUI shows before its own scaling). */
export function latent2rgb(latent: Latent, model: ModelSpec): RgbaImage {
  return rawToRgba(latent2rgbRaw(latent, model));
}

/** Nearest-neighbour enlargement of a planar `[3,h,w]` image by an integer factor. */
export function upscaleNearest(image: RawImage, factor: number): RawImage {
  if (factor === 1) return image;
  const { width: w, height: h, data } = image;
  const W = w * factor, H = h * factor;
  const out = new Float32Array(3 * W * H);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < H; y++) {
      const src = (c * h + Math.floor(y / factor)) * w;
      const dst = (c * H + y) * W;
      for (let x = 0; x < W; x++) out[dst + x] = data[src + Math.floor(x / factor)]!;
    }
  }
  return { width: W, height: H, data: out };
}

export type LinearUpscale = 1 | 2 | 4 | 8;

export interface LinearDecoderOptions {
  /**
   * Output pixels per latent pixel along each axis: 1 (default, latent resolution), 2, 4 or 8
   * (the size a real decoder gives). Nearest neighbour: exact and free of new colours; for a
   * smooth look, leave it at 1 and let the canvas scale (`imageSmoothingEnabled`, CSS).
   */
  readonly upscale?: LinearUpscale;
  /** Default latent space for `decode`/`decodeRaw` (default `'model'`). */
  readonly latentSpace?: LatentSpace;
}

/** The linear preview as a `LatentDecoder`; `decodeRaw` gives `latent2rgbRaw`'s [0,1] floats, upscaled. */
export interface LinearDecoder extends BackendDecoder {
  readonly backend: 'linear';
  readonly upscale: LinearUpscale;
}

/** A linear-preview decoder for `model`'s family. Needs no weights; decodes take microseconds to a few ms. */
export function createLinearDecoder(model: ModelSpec, options: LinearDecoderOptions = {}): LinearDecoder {
  const { upscale = 1, latentSpace = 'model' } = options;
  if (![1, 2, 4, 8].includes(upscale)) fail('BAD_OPTION', `upscale must be 1, 2, 4 or 8, got ${String(upscale)}`);
  rgbFactors(model);
  return new LinearCpuDecoder(model, upscale, latentSpace);
}

class LinearCpuDecoder extends DecoderSurface<Latent> implements LinearDecoder {
  readonly backend = 'linear' as const;
  readonly capabilities: DecoderCapabilities = { numThreads: null, gpu: null, kernels: () => null };

  constructor(readonly model: ModelSpec, readonly upscale: LinearUpscale, private readonly latentSpace: LatentSpace) {
    super();
  }

  // `scale` does not apply: the preview's size is the latent's times `upscale`.
  outputSize(h: number, w: number): { width: number; height: number } {
    return { width: w * this.upscale, height: h * this.upscale };
  }

  protected prepare(input: AnyLatentInput, options: DecodeOptions | undefined): Latent {
    return prepareLatent(expectCpuLatent(input, 'linear'), this.model, options?.latentSpace ?? this.latentSpace);
  }

  protected async rawBatch(latent: Latent): Promise<RawImage[]> {
    return Array.from({ length: latent.batch }, (_, i) => upscaleNearest(latent2rgbRaw(latentItem(latent, i), this.model), this.upscale));
  }

  protected release(): void {}
}
