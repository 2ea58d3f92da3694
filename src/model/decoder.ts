import type { ModelSpec } from './registry.js';

/**
 * A latent as a sampler holds it on the CPU: `[C,h,w]`, or a batch `[N,C,h,w]`; float32, or
 * float16 bits in a Uint16Array. FLUX.2's 128-channel packed latents are taken as they are.
 */
export interface LatentInput {
  readonly data: Float32Array | Uint16Array;
  readonly shape: readonly number[];
}

/**
 * A latent held in a `GPUBuffer` on the decoder's device, as an in-browser sampler holds it
 * between steps (e.g. an onnxruntime-web tensor's `gpuBuffer`): decoded by the WebGPU backend with
 * no CPU copy. Planar, `[C,h,w]` or `[N,C,h,w]` (FLUX.2's packed layout too), starting at byte 0;
 * the buffer needs `STORAGE` usage. Values are not checked for NaN (that would need a readback).
 */
export interface GpuLatentInput {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'float16';
}

/** Either kind of latent input. */
export type AnyLatentInput = LatentInput | GpuLatentInput;

export const isGpuLatent = (latent: AnyLatentInput): latent is GpuLatentInput =>
  typeof latent === 'object' && latent !== null && 'buffer' in latent;

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
export type BackendKind = 'webgpu' | 'native' | 'wasm' | 'linear';

export interface DecodeOptions {
  /** Overrides the decoder's `latentSpace` for this call. */
  readonly latentSpace?: LatentSpace;
  /**
   * Output size relative to a full decode: 1 (default), 1/2, 1/4, 1/8 (taesana down to 1/32).
   * The last upsamples are replaced by the identity (SD.Next's `taesd_layers`): a smaller image
   * for a fraction of the work. The linear backend ignores it (see its `upscale`).
   */
  readonly scale?: number;
}

/** What every backend offers; `progress`, the CLI and the demo decode through this alone. */
export interface LatentDecoder {
  readonly model: ModelSpec;
  readonly backend: BackendKind;
  /** One latent -> 8-bit RGBA (clamped to [0,1], scaled by 255, rounded). A batch of several: LATENT_SHAPE. */
  decode(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage>;
  /** One latent -> raw float output `[3,H,W]`. */
  decodeRaw(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage>;
  /** A batch `[N,C,h,w]` (or one latent) -> N images, decoded together. */
  decodeBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage[]>;
  /** A batch -> N raw outputs. */
  decodeRawBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage[]>;
  /** Frees GPU buffers / sessions. Further calls throw `DESTROYED`. */
  destroy(): void;
}
