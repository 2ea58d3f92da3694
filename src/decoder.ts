import { fail, isTaesdError } from './errors.js';
import { createLinearDecoder, type LinearUpscale } from './fallback/linear.js';
import { createWasmDecoder, type WasmDecoder, type WasmDecoderOptions } from './fallback/wasm.js';
import { WebGpuDecoder, type Precision } from './gpu/decoder.js';
import { canvasTexture } from './gpu/canvas.js';
import { deviceAdapterInfo, isFallbackAdapter, requestGpuDevice } from './gpu/device.js';
import { LinearPreview } from './gpu/linearPreview.js';
import { UPSCALE } from './model/architecture.js';
import type { BackendKind, DecodeOptions, LatentDecoder, LatentInput, LatentSpace, RawImage, RgbaImage } from './model/decoder.js';
import { prepareLatent, type Latent } from './model/latent.js';
import { getModel, type ModelSpec } from './model/registry.js';
import { resolveDecoderWeights, type DecoderWeights } from './model/weights.js';
import { loadStateDict, type WeightsSource } from './weights/load.js';
import type { StateDict } from './weights/tensor.js';

export type BackendChoice = 'auto' | BackendKind;

export interface CreateDecoderOptions {
  /** Model id (`taesd`, `taesdxl`, `taesd3`, `taef1`, `taef2`). Optional with weights: detected, and checked when given. */
  readonly model?: string;
  /** Weights: URL, file path (Node), bytes, or an already parsed state dict. Not needed for `backend: 'linear'`. */
  readonly weights?: WeightsSource | StateDict;
  /**
   * `'auto'` (default): WebGPU on a real GPU, WASM where WebGPU is missing or CPU-emulated
   * (lavapipe, SwiftShader), a timed probe where the adapter does not say. `'linear'`: the
   * latent-to-RGB preview at latent resolution (no weights).
   */
  readonly backend?: BackendChoice;
  /** WebGPU device to use (default: one is requested). With `backend: 'linear'`, canvases are drawn on it by a WGSL kernel. */
  readonly device?: GPUDevice;
  /** Makes a device (and re-makes one after a device loss); default requests one from the adapter. */
  readonly requestDevice?: () => Promise<GPUDevice>;
  /** WebGPU storage precision: `'auto'` (default) takes f16 when the device has `shader-f16`; accumulation is f32 either way. */
  readonly precision?: Precision | 'auto';
  /** Space of the latents given to `decode` (default `'model'`, a sampler's x0). */
  readonly latentSpace?: LatentSpace;
  /** WebGPU: cap on one buffer in bytes; larger images decode in row bands (default: the device limit). */
  readonly maxBufferBytes?: number;
  /** WASM backend options (threads, where its .wasm files are served). */
  readonly wasm?: WasmDecoderOptions;
  /** Linear backend: output pixels per latent pixel (default 1). */
  readonly linearUpscale?: LinearUpscale;
}

/** Emitted when the decoder moves to another backend or device (device loss), with why. */
export interface BackendChange {
  readonly from: BackendKind;
  readonly to: BackendKind;
  readonly reason: string;
}

/** What `auto` found per adapter (by its description), so a page or process probes once. */
const probeCache = new Map<string, { pick: 'webgpu' | 'wasm'; reason: string }>();

/**
 * Times a second decode of a 16x16 latent on each backend (the first builds pipelines) and
 * picks the faster; the answer is cached under `adapter` for the life of the page or process.
 */
export async function probeBackends(adapter: string, webgpu: LatentDecoder, wasm: LatentDecoder): Promise<{ pick: 'webgpu' | 'wasm'; reason: string }> {
  const cached = probeCache.get(adapter);
  if (cached) return { pick: cached.pick, reason: `${cached.reason} (cached for this adapter)` };
  const c = webgpu.model.latentChannels;
  const probe: LatentInput = { data: new Float32Array(c * 16 * 16), shape: [c, 16, 16] };
  const time = async (d: LatentDecoder) => { await d.decode(probe); const t = performance.now(); await d.decode(probe); return performance.now() - t; };
  const tg = await time(webgpu), tw = await time(wasm);
  const result = { pick: tg <= tw ? 'webgpu' as const : 'wasm' as const, reason: `timed probe (16x16 latent): webgpu ${tg.toFixed(0)} ms, wasm ${tw.toFixed(0)} ms` };
  probeCache.set(adapter, result);
  return result;
}

async function loadWeights(options: CreateDecoderOptions): Promise<DecoderWeights> {
  if (options.weights === undefined) fail('BAD_OPTION', 'weights are required for the webgpu and wasm backends (see models/manifest.json)');
  const { dict, name } = options.weights instanceof Map
    ? { dict: options.weights, name: 'state dict' }
    : await loadStateDict(options.weights);
  const weights = resolveDecoderWeights(dict, { ...(options.model !== undefined && { model: options.model }), sourceName: name });
  checkLatentSpace(weights, options.latentSpace ?? 'model');
  return weights;
}

/** VAE-space latents need the model family's scale and shift, which guessed weights cannot give. */
function checkLatentSpace(weights: DecoderWeights | null, space: LatentSpace): void {
  if (space === 'vae' && weights?.modelGuessed) fail('BAD_OPTION', `latentSpace 'vae' needs the model family's scale and shift, but ${weights.modelReason}`);
}

function adapterKey(i: GPUAdapterInfo): string {
  return `${i.vendor}|${i.architecture}|${i.device}|${i.description}`;
}

/**
 * A TAESD decoder on the best backend for this machine, with one interface for all backends.
 * On WebGPU device loss it re-creates its device once, then continues on WASM; the step in
 * flight is decoded again, and `onBackendChange` listeners hear of it.
 */
export class Decoder implements LatentDecoder {
  /** Why the current backend was chosen (or changed to). */
  backendReason: string;
  private current: LatentDecoder;
  private listeners = new Set<(change: BackendChange) => void>();
  private recovered = false;
  private destroyed = false;
  private recovery: Promise<void> | null = null;

  private constructor(
    current: LatentDecoder,
    reason: string,
    private readonly weights: DecoderWeights | null,
    private readonly options: CreateDecoderOptions,
    private readonly linearPreview: LinearPreview | null = null,
  ) {
    this.current = current;
    this.backendReason = reason;
  }

  static async create(options: CreateDecoderOptions): Promise<Decoder> {
    const backend = options.backend ?? 'auto';
    if (!['auto', 'webgpu', 'wasm', 'linear'].includes(backend)) fail('BAD_OPTION', `backend must be auto, webgpu, wasm or linear, got ${String(backend)}`);
    if (backend === 'linear') {
      const weights = options.weights !== undefined ? await loadWeights(options) : null;
      const model = weights?.model ?? (options.model !== undefined ? getModel(options.model) : fail('BAD_OPTION', 'the linear backend needs a model id (or weights to detect it from)'));
      const upscale = options.linearUpscale ?? 1;
      const linear = createLinearDecoder(model, { upscale, latentSpace: options.latentSpace ?? 'model' });
      const preview = options.device ? new LinearPreview(options.device, model, upscale) : null;
      return new Decoder(linear, 'requested', weights, options, preview);
    }
    const weights = await loadWeights(options);
    if (backend === 'wasm') return new Decoder(await Decoder.wasm(weights, options), 'requested', weights, options);
    if (backend === 'webgpu') return new Decoder(await Decoder.webgpu(weights, options), 'requested', weights, options);

    let device: GPUDevice;
    try {
      device = options.device ?? (await Decoder.gpu(options));
    } catch (e) {
      if (!isTaesdError(e, 'NO_WEBGPU')) throw e;
      return new Decoder(await Decoder.wasm(weights, options), `no WebGPU: ${e.message}`, weights, options);
    }
    const info = deviceAdapterInfo(device);
    if (info && isFallbackAdapter(info)) {
      if (!options.device) device.destroy();
      return new Decoder(await Decoder.wasm(weights, options), `WebGPU adapter is CPU-emulated (${[info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'fallback adapter'}); WASM is faster there`, weights, options);
    }
    const webgpu = new WebGpuDecoder(device, weights, Decoder.gpuOptions(device, options));
    if (info && info.vendor !== '') return new Decoder(webgpu, `hardware WebGPU adapter (${info.vendor} ${info.architecture})`.trim(), weights, options);
    // The adapter does not say what it is: time both on a small latent, once per adapter.
    const wasm = await Decoder.wasm(weights, options);
    const { pick, reason } = await probeBackends(info ? adapterKey(info) : 'unknown adapter', webgpu, wasm);
    if (pick === 'webgpu') wasm.destroy();
    else {
      webgpu.destroy();
      if (!options.device) device.destroy();
    }
    return new Decoder(pick === 'wasm' ? wasm : webgpu, reason, weights, options);
  }

  private static async gpu(options: CreateDecoderOptions): Promise<GPUDevice> {
    if (options.requestDevice) return options.requestDevice();
    return (await requestGpuDevice({ f16: options.precision !== 'f32' })).device;
  }

  private static gpuOptions(device: GPUDevice, options: CreateDecoderOptions) {
    const f16 = options.precision === 'f16' || (options.precision !== 'f32' && device.features.has('shader-f16'));
    return {
      precision: (f16 ? 'f16' : 'f32') as Precision,
      latentSpace: options.latentSpace ?? 'model',
      ...(options.maxBufferBytes !== undefined && { maxBufferBytes: options.maxBufferBytes }),
    };
  }

  private static async webgpu(weights: DecoderWeights, options: CreateDecoderOptions): Promise<WebGpuDecoder> {
    const device = options.device ?? (await Decoder.gpu(options));
    return new WebGpuDecoder(device, weights, Decoder.gpuOptions(device, options));
  }

  private static wasm(weights: DecoderWeights, options: CreateDecoderOptions): Promise<LatentDecoder> {
    return createWasmDecoder(weights, { ...options.wasm, latentSpace: options.latentSpace ?? 'model' });
  }

  get model(): ModelSpec { return this.current.model; }
  /** How the model was chosen: given, detected from the weights' shapes (and file name), or guessed. */
  get modelReason(): string { return this.weights?.modelReason ?? 'given'; }
  get backend(): BackendKind { return this.current.backend; }
  /** Threads of the WASM backend (fixed per page or process by its first decoder), or null on another backend. */
  get numThreads(): number | null { return 'numThreads' in this.current ? (this.current as WasmDecoder).numThreads : null; }
  /** The WebGPU device in use, or null on another backend. */
  get device(): GPUDevice | null { return this.current instanceof WebGpuDecoder ? this.current.device : null; }

  /** Listens for backend or device changes; returns a function that stops listening. */
  onBackendChange(listener: (change: BackendChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  decode(latent: LatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    return this.withRecovery((d) => d.decode(latent, this.checkSpace(options)));
  }

  decodeRaw(latent: LatentInput, options?: DecodeOptions): Promise<RawImage> {
    return this.withRecovery((d) => d.decodeRaw(latent, this.checkSpace(options)));
  }

  /**
   * Checks a latent and maps it into TAESD's input space as `decode` would, without decoding:
   * for callers that validate a whole run before writing anything.
   */
  prepareLatent(latent: LatentInput, options?: DecodeOptions): Latent {
    this.checkSpace(options);
    return prepareLatent(latent, this.model, options?.latentSpace ?? this.options.latentSpace ?? 'model');
  }

  private checkSpace(options?: DecodeOptions): DecodeOptions | undefined {
    checkLatentSpace(this.weights, options?.latentSpace ?? this.options.latentSpace ?? 'model');
    return options;
  }

  /**
   * Draws the decoded image into a canvas, resized to the image. On WebGPU it renders through
   * the canvas's `webgpu` context with no CPU readback; on other backends through `2d`.
   */
  async decodeToCanvas(latent: LatentInput, canvas: HTMLCanvasElement | OffscreenCanvas, options?: DecodeOptions): Promise<{ width: number; height: number }> {
    this.checkSpace(options);
    const preview = this.linearPreview;
    const gpuContext = preview ? (canvas.getContext('webgpu') as GPUCanvasContext | null) : null;
    if (preview && gpuContext) {
      const prepared = this.prepareLatent(latent, options);
      const u = preview.upscale;
      await preview.drawToTexture(prepared, canvasTexture(gpuContext, preview.device, prepared.width * u, prepared.height * u));
      return { width: prepared.width * u, height: prepared.height * u };
    }
    return this.withRecovery(async (d) => {
      if (d instanceof WebGpuDecoder) {
        const context = canvas.getContext('webgpu') as GPUCanvasContext | null;
        if (context) return d.decodeToCanvas(latent, context, options);
      }
      const image = await d.decode(latent, options);
      if (canvas.width !== image.width || canvas.height !== image.height) { canvas.width = image.width; canvas.height = image.height; }
      const ctx = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
      // A canvas keeps its first context: after a switch off WebGPU, the app gives a fresh canvas (onBackendChange).
      if (!ctx) fail('BAD_OPTION', `this canvas has a WebGPU context, which the ${d.backend} backend cannot draw into; use a fresh canvas (see onBackendChange)`);
      ctx.putImageData(new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
      return { width: image.width, height: image.height };
    });
  }

  /** Output size for a latent of h x w (8x; the linear backend: its upscale). */
  outputSize(h: number, w: number): { width: number; height: number } {
    const f = this.current.backend === 'linear' ? (this.options.linearUpscale ?? 1) : UPSCALE;
    return { width: w * f, height: h * f };
  }

  /** Frees the backend; a WebGPU device the decoder requested (itself or via `requestDevice`) goes with it. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.release(this.current);
  }

  private release(d: LatentDecoder): void {
    d.destroy();
    this.linearPreview?.destroy();
    if (d instanceof WebGpuDecoder && !this.options.device) d.device.destroy();
  }

  private async withRecovery<T>(run: (d: LatentDecoder) => Promise<T>): Promise<T> {
    if (this.destroyed) fail('DESTROYED', 'decoder was destroyed');
    const used = this.current;
    try {
      return await run(used);
    } catch (e) {
      if (!isTaesdError(e, 'DEVICE_LOST') || !this.weights || this.destroyed) throw e;
      // Decodes in flight together share one recovery.
      if (this.current === used) this.recovery ??= this.recover(e.message).finally(() => { this.recovery = null; });
      await this.recovery;
      return run(this.current);
    }
  }

  private async recover(why: string): Promise<void> {
    const weights = this.weights!;
    this.release(this.current);
    let change: BackendChange | undefined;
    if (!this.recovered && !this.options.device) {
      this.recovered = true;
      try {
        this.current = await Decoder.webgpu(weights, this.options);
        change = { from: 'webgpu', to: 'webgpu', reason: `${why}; re-created the WebGPU device` };
      } catch (e) {
        why = `${why}; no new WebGPU device (${e instanceof Error ? e.message : String(e)})`;
      }
    }
    if (!change) {
      this.current = await Decoder.wasm(weights, this.options);
      change = { from: 'webgpu', to: 'wasm', reason: `${why}; continuing on WASM` };
    }
    // destroy() ran while we were recovering: free what was just made.
    if (this.destroyed) this.release(this.current);
    else this.switched(change);
  }

  private switched(change: BackendChange): void {
    this.backendReason = change.reason;
    for (const l of this.listeners) l(change);
  }
}

/** Creates a decoder; see CreateDecoderOptions. */
export function createDecoder(options: CreateDecoderOptions): Promise<Decoder> {
  return Decoder.create(options);
}
