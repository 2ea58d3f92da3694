// createDecoder: the weights loaded and checked, a backend chosen (backend/choose.ts), device loss
// recovered from (backend/recovery.ts), canvases drawn into (backend/present.ts).
import { chooseBackend, cpuBackend } from './backend/choose.js';
import type { TuningStore } from './gpu/tune.js';
import { CanvasPresenter, type AnyCanvas, type Drawn } from './backend/present.js';
import { Recovering, type BackendChange, type RecoveryPolicy } from './backend/recovery.js';
import { BACKENDS, BACKEND_KINDS, isBackendKind, type BackendOptions } from './backend/registry.js';
import { fail } from './errors.js';
import type { AnyLatentInput, BackendKind, DecodeOptions, BackendDecoder, GpuOutputs, LatentDecoder, LatentInput, LatentSpace, LayerKernel } from './model/decoderTypes.js';
import { markPrepared, prepareLatent, type Latent } from './model/latent.js';
import { getModel, type ModelId, type ModelSpec } from './model/registry.js';
import type { RawImage, RgbaImage } from './model/rgba.js';
import { defaultWeights } from './model/shippedWeights.js';
import { resolveDecoderWeights, type DecoderWeights } from './model/weights.js';
import { loadStateDict, type WeightsSource } from './weights/load.js';
import type { StateDict } from './weights/tensor.js';

export type BackendChoice = 'auto' | BackendKind;

/** See BackendOptions (src/backend/registry.ts) for `device`, `precision`, `wasm` and the other backend options. */
export interface CreateDecoderOptions extends BackendOptions {
  /** Model id. Optional with weights: detected from their shapes, and checked when given. */
  readonly model?: ModelId;
  /**
   * Weights: URL, file path (Node), bytes, or an already parsed state dict. Default: the weights
   * that ship with the package (taef2's only; src/model/shippedWeights.ts). Not needed for `backend: 'linear'`.
   */
  readonly weights?: WeightsSource | StateDict;
  /**
   * `'auto'` (default): WebGPU on a real GPU, WASM where WebGPU is missing or CPU-emulated
   * (lavapipe, SwiftShader), a timed probe where the adapter does not say. `'linear'`: the
   * latent-to-RGB preview at latent resolution (no weights).
   */
  readonly backend?: BackendChoice;
}

export type { BackendChange, TuningStore };

async function loadWeights(options: CreateDecoderOptions): Promise<DecoderWeights> {
  const source = options.weights ?? defaultWeights(options.model);
  const { dict, name } = source instanceof Map ? { dict: source, name: 'state dict' } : await loadStateDict(source);
  return resolveDecoderWeights(dict, { ...(options.model !== undefined && { model: options.model }), sourceName: name });
}

/** VAE-space latents need the model family's scale and shift, which guessed weights cannot give. */
function checkLatentSpace(weights: DecoderWeights | null, space: LatentSpace): void {
  if (space === 'vae' && weights?.modelGuessed) fail('BAD_OPTION', `latentSpace 'vae' needs the model family's scale and shift, but ${weights.modelReason}`, { reason: 'MODEL_GUESSED' });
}

/**
 * After a WebGPU device loss: a new device once (unless the device was the caller's), then the
 * CPU backend (native in Node when installed, else WASM). Other backends have nothing to recover to.
 */
function recoveryPolicy(model: ModelSpec, weights: DecoderWeights | null, options: BackendOptions): RecoveryPolicy {
  let retried = false;
  return (lost, why) => {
    if (lost.backend !== 'webgpu' || !weights) return null;
    return (async () => {
      if (!retried && !options.device) {
        retried = true;
        try {
          return { decoder: await BACKENDS.webgpu.create(model, weights, options), reason: `${why}; re-created the WebGPU device` };
        } catch (e) {
          why = `${why}; no new WebGPU device (${e instanceof Error ? e.message : String(e)})`;
        }
      }
      const { decoder } = await cpuBackend(model, weights, options);
      return { decoder, reason: `${why}; continuing on ${decoder.backend === 'native' ? 'native onnxruntime' : 'WASM'}` };
    })();
  };
}

/**
 * A TAESD decoder on the best backend for this machine, with one interface for all backends.
 * On WebGPU device loss it re-creates its device once, then continues on WASM; the step in
 * flight is decoded again, and `onBackendChange` listeners hear of it.
 */
export class Decoder implements LatentDecoder {
  private readonly presenter = new CanvasPresenter();

  private constructor(
    private readonly backends: Recovering,
    /** The validated weights (null for a linear decoder made from a model id alone). */
    private readonly weights: DecoderWeights | null,
    readonly model: ModelSpec,
    private readonly options: CreateDecoderOptions,
  ) {}

  static async create(options: CreateDecoderOptions): Promise<Decoder> {
    const backend = options.backend ?? 'auto';
    if (backend !== 'auto' && !isBackendKind(backend)) fail('BAD_OPTION', `backend must be auto or ${BACKEND_KINDS.join(', ')}, got ${String(backend)}`);
    const needsWeights = backend === 'auto' || BACKENDS[backend].needsWeights;
    const weights = needsWeights || options.weights !== undefined ? await loadWeights(options) : null;
    const model = weights?.model ?? (options.model !== undefined ? getModel(options.model) : fail('BAD_OPTION', 'the linear backend needs a model id (or weights to detect it from)'));
    checkLatentSpace(weights, options.latentSpace ?? 'model');
    const { decoder, reason } = backend === 'auto'
      ? await chooseBackend(model, weights!, options)
      : { decoder: await BACKENDS[backend].create(model, weights, options), reason: 'requested' };
    return new Decoder(new Recovering(decoder, reason, recoveryPolicy(model, weights, options)), weights, model, options);
  }

  /** How the model was chosen: given, detected from the weights' shapes (and file name), or guessed. */
  get modelReason(): string { return this.weights?.modelReason ?? 'given'; }
  get backend(): BackendKind { return this.backends.decoder.backend; }
  /** Why the current backend was chosen (or changed to). */
  get backendReason(): string { return this.backends.reason; }
  /** Threads of the WASM backend (fixed per page or process by its first decoder) or the native one (0: one per core), else null. */
  get numThreads(): number | null {
    return this.backends.decoder.capabilities.numThreads;
  }
  /** On WebGPU, the conv kernel each layer ran with in the last decode (tuned per adapter); else null. */
  get kernels(): readonly LayerKernel[] | null {
    return this.backends.decoder.capabilities.kernels();
  }

  /** The WebGPU device in use, or null on another backend. */
  get device(): GPUDevice | null {
    const d = this.backends.decoder;
    return d.backend === 'webgpu' ? (d.capabilities.gpu?.device ?? null) : null;
  }

  /** Listens for backend or device changes; returns a function that stops listening. */
  onBackendChange(listener: (change: BackendChange) => void): () => void {
    return this.backends.onChange(listener);
  }

  /** One latent (CPU arrays, or a GPUBuffer on the WebGPU backend's device) -> 8-bit RGBA. */
  decode(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    return this.backends.run((d) => d.decode(latent, this.checkSpace(options)));
  }

  /** One latent -> the raw float output `[3,H,W]`. */
  decodeRaw(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage> {
    return this.backends.run((d) => d.decodeRaw(latent, this.checkSpace(options)));
  }

  /** A batch `[N,C,h,w]` -> N images; on WebGPU one set of dispatches for the whole batch. */
  decodeBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage[]> {
    return this.backends.run((d) => d.decodeBatch(latent, this.checkSpace(options)));
  }

  /** A batch -> N raw outputs. */
  decodeRawBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage[]> {
    return this.backends.run((d) => d.decodeRawBatch(latent, this.checkSpace(options)));
  }

  /**
   * Draws the decoded image into a canvas, resized to the image. On WebGPU it renders through the
   * canvas's `webgpu` context with no CPU readback; on other backends through `2d`. Resolves when
   * the frame is drawn, so a sampler loop gets backpressure. After a backend change a page canvas
   * is replaced by a fresh copy in place (a canvas keeps its first context): the result names it.
   */
  decodeToCanvas(latent: AnyLatentInput, canvas: AnyCanvas, options?: DecodeOptions): Promise<Drawn> {
    return this.backends.run((d) => this.presenter.draw(d, latent, canvas, this.checkSpace(options)));
  }

  /**
   * WebGPU only: decodes into an `rgba8unorm` texture with `STORAGE_BINDING` usage, of the image's
   * size, on the decoder's device, with no CPU readback; resolves when the GPU is done.
   */
  decodeToTexture(latent: AnyLatentInput, texture: GPUTexture, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    return this.backends.run((d) => (this.gpuOutput(d, 'decodeToTexture'))(latent, texture, this.checkSpace(options)));
  }

  /**
   * WebGPU only: decodes (a batch) into a buffer you own on the decoder's device, 8-bit RGBA, one u32
   * per pixel, items one after another; needs `COPY_DST` usage. No CPU readback.
   */
  decodeToBuffer(latent: AnyLatentInput, buffer: GPUBuffer, options?: DecodeOptions): Promise<{ width: number; height: number; batch: number }> {
    return this.backends.run((d) => (this.gpuOutput(d, 'decodeToBuffer'))(latent, buffer, this.checkSpace(options)));
  }

  /** A GPU output the backend declares, or BAD_OPTION naming the backend that lacks it. */
  private gpuOutput<M extends 'decodeToTexture' | 'decodeToBuffer'>(d: BackendDecoder, method: M): NonNullable<GpuOutputs[M]> {
    return d.capabilities.gpu?.[method] ?? fail('BAD_OPTION', `${method} needs the webgpu backend; this decoder runs on ${d.backend}`, { reason: 'UNSUPPORTED' });
  }

  /**
   * Checks a latent and maps it into TAESD's input space as `decode` would, without decoding:
   * for callers that validate a whole run before writing anything. The result has a `shape` too,
   * so every decode method takes it, as it is (not checked or mapped again, whatever `latentSpace`
   * says); prepare it again after changing its `data`.
   */
  prepareLatent(latent: LatentInput, options?: DecodeOptions): Latent & LatentInput {
    this.checkSpace(options);
    return markPrepared(prepareLatent(latent, this.model, options?.latentSpace ?? this.options.latentSpace ?? 'model'), this.model.id);
  }

  /** Output size for a latent of h x w (TAESD: 8x, taesana 32x, times `scale`; the linear backend: its upscale). */
  outputSize(h: number, w: number, options?: DecodeOptions): { width: number; height: number } {
    return this.backends.decoder.outputSize(h, w, options);
  }

  /** Frees the backend; a WebGPU device the decoder requested (itself or via `requestDevice`) goes with it. */
  destroy(): void {
    this.backends.destroy();
  }

  private checkSpace(options?: DecodeOptions): DecodeOptions | undefined {
    checkLatentSpace(this.weights, options?.latentSpace ?? this.options.latentSpace ?? 'model');
    return options;
  }
}

/** Creates a decoder; see CreateDecoderOptions. */
export function createDecoder(options: CreateDecoderOptions): Promise<Decoder> {
  return Decoder.create(options);
}
