import type { ModelSpec } from './registry.js';

/** A latent as a sampler holds it: `[C,h,w]` or `[1,C,h,w]`, float32, or float16 bits in a Uint16Array. */
export interface LatentInput {
  readonly data: Float32Array | Uint16Array;
  readonly shape: readonly number[];
}

/**
 * Which space the latent values are in.
 * - `'model'`: what a sampler's x0 / denoised prediction holds; TAESD takes it as is (default).
 * - `'vae'`: raw VAE latents (e.g. ComfyUI `.latent` files); mapped with `(x - shift) * scale`.
 */
export type LatentSpace = 'model' | 'vae';

/** An 8-bit RGBA image, layout-compatible with `ImageData`. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  /** width * height * 4 bytes, row-major RGBA, alpha 255. */
  readonly data: Uint8ClampedArray;
}

/** The decoder's raw float output: planar `[3,H,W]`, unclamped (roughly [0,1]). */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** The backends (src/backend/registry.ts makes each one). */
export type BackendKind = 'webgpu' | 'wasm' | 'linear';

export interface DecodeOptions {
  /** Overrides the decoder's `latentSpace` for this call. */
  readonly latentSpace?: LatentSpace;
}

/** What every backend offers; `progress`, the CLI and the demo decode through this alone. */
export interface LatentDecoder {
  readonly model: ModelSpec;
  readonly backend: BackendKind;
  /** Latent -> 8-bit RGBA (clamped to [0,1], scaled by 255, rounded). */
  decode(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage>;
  /** Latent -> raw float output `[3,H,W]`. */
  decodeRaw(latent: LatentInput, options?: DecodeOptions): Promise<RawImage>;
  /** Frees GPU buffers / sessions. Further calls throw `DESTROYED`. */
  destroy(): void;
}
