// The types every decoder backend, the facade and the progress writer share; no code but a type guard.
import type { ModelSpec } from './registry.js';
import type { RawImage, RgbaImage } from './rgba.js';

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

/** The kernel one conv layer ran with on WebGPU, for `kernels`. */
export interface LayerKernel {
  /** The layer's state-dict key (e.g. `12` or `3.conv.2`). */
  readonly layer: string;
  readonly variant: string;
  /** ms per dispatch of each candidate on a sample of this layer's size, when it was tuned. */
  readonly timings: Readonly<Record<string, number>>;
}

/** Outputs that stay on the GPU (no CPU readback), where a backend renders on a device. */
export interface GpuOutputs {
  readonly device: GPUDevice;
  /** Into a WebGPU canvas's context (configured and resized for the image). */
  decodeToCanvas(latent: AnyLatentInput, context: GPUCanvasContext, options?: DecodeOptions): Promise<{ width: number; height: number }>;
  /** Into an `rgba8unorm` texture with `STORAGE_BINDING` usage, of the image's size; absent where unsupported. */
  readonly decodeToTexture?: (latent: AnyLatentInput, texture: GPUTexture, options?: DecodeOptions) => Promise<{ width: number; height: number }>;
  /** Into a `COPY_DST` buffer, 8-bit RGBA as one u32 per pixel, items one after another; absent where unsupported. */
  readonly decodeToBuffer?: (latent: AnyLatentInput, buffer: GPUBuffer, options?: DecodeOptions) => Promise<{ width: number; height: number; batch: number }>;
}

/** What a backend offers beyond the common methods, declared rather than probed for. */
export interface DecoderCapabilities {
  /** Threads of a CPU backend (0: onnxruntime's default, one per core); null elsewhere. */
  readonly numThreads: number | null;
  /** GPU-side outputs, or null where the backend draws through the CPU. */
  readonly gpu: GpuOutputs | null;
  /** The conv kernel each layer ran with in the most recent decode (WebGPU), else null. */
  kernels(): readonly LayerKernel[] | null;
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

/** A backend's decoder: the common methods plus what the facade asks of every backend. */
export interface BackendDecoder extends LatentDecoder {
  readonly capabilities: DecoderCapabilities;
  /** Output size for an h x w latent (after unpacking) with these options. */
  outputSize(h: number, w: number, options?: DecodeOptions): { width: number; height: number };
}
