// Every backend, registered in one place: what it is called, whether it needs weights, how it is made.
import { fail } from '../errors.js';
import { createLinearDecoder, type LinearUpscale } from '../fallback/linear.js';
import { createNativeDecoder, type NativeDecoderOptions } from '../fallback/native.js';
import { createWasmDecoder, type WasmDecoderOptions } from '../fallback/wasm.js';
import { WebGpuDecoder, type Precision } from '../gpu/decoder.js';
import { requestGpuDevice } from '../gpu/device.js';
import { linearOnGpu } from '../gpu/linearPreview.js';
import type { TuningStore } from '../gpu/tune.js';
import type { BackendKind, BackendDecoder, LatentSpace } from '../model/decoderTypes.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';

/** Options the backends read (the rest of createDecoder's options are in CreateDecoderOptions). */
export interface BackendOptions {
  /** WebGPU device to use (yours: never destroyed by the decoder). With `backend: 'linear'`, canvases are drawn on it by a WGSL kernel. */
  readonly device?: GPUDevice;
  /** Makes a device (and re-makes one after a device loss); default requests one from the adapter. The decoder destroys what it makes. */
  readonly requestDevice?: () => Promise<GPUDevice>;
  /** WebGPU storage precision: `'auto'` (default) takes f16 when the device has `shader-f16`; accumulation is f32 either way. */
  readonly precision?: Precision | 'auto';
  /** Space of the latents given to `decode` (default `'model'`, a sampler's x0). */
  readonly latentSpace?: LatentSpace;
  /** Cap on one buffer (WebGPU) or activation (onnxruntime) in bytes; larger images decode in exact row bands (defaults: WebGPU 256 MiB or the device limit, WASM 128 MiB, native 512 MiB). */
  readonly maxBufferBytes?: number;
  /** WASM backend options (threads, where its .wasm files are served, off the main thread). */
  readonly wasm?: WasmDecoderOptions;
  /** Native backend options (Node: threads, CPU or CUDA). */
  readonly native?: Omit<NativeDecoderOptions, 'latentSpace'>;
  /** Linear backend: output pixels per latent pixel (default 1). */
  readonly linearUpscale?: LinearUpscale;
  /**
   * WebGPU conv kernels: `'auto'` (default) times the candidates once per adapter and layer shape on
   * hardware adapters and keeps the default on CPU-emulated ones; `'tune'` always times; `'default'`
   * never does; or a kernel id (`decoder.kernels` lists what ran).
   */
  readonly convKernel?: string;
  /** Where measurements (auto's probe, kernel tuning) are remembered per adapter; `localStorage` fits (default: this page or process). */
  readonly store?: TuningStore;
}

interface Backend {
  /** The linear preview needs only the model's latent factors. */
  readonly needsWeights: boolean;
  create(model: ModelSpec, weights: DecoderWeights | null, options: BackendOptions): Promise<BackendDecoder>;
}

/** A WebGPU device: the caller's (kept), else a new one the decoder owns (destroyed with it). */
export async function gpuDevice(options: BackendOptions): Promise<{ device: GPUDevice; owned: boolean }> {
  if (options.device) return { device: options.device, owned: false };
  if (options.requestDevice) return { device: await options.requestDevice(), owned: true };
  return { device: (await requestGpuDevice({ f16: options.precision !== 'f32' })).device, owned: true };
}

/** A WebGPU decoder on `device`, with the precision `options` ask for ('auto': f16 where the device has it). */
export function webgpuOn(device: GPUDevice, owned: boolean, weights: DecoderWeights, options: BackendOptions): WebGpuDecoder {
  const f16 = options.precision === 'f16' || (options.precision !== 'f32' && device.features.has('shader-f16'));
  return new WebGpuDecoder(device, weights, {
    precision: f16 ? 'f16' : 'f32',
    latentSpace: options.latentSpace ?? 'model',
    ownsDevice: owned,
    ...(options.maxBufferBytes !== undefined && { maxBufferBytes: options.maxBufferBytes }),
    ...(options.convKernel !== undefined && { convKernel: options.convKernel }),
    ...(options.store !== undefined && { store: options.store }),
  });
}

const bandCap = (options: BackendOptions) => (options.maxBufferBytes === undefined ? {} : { maxBufferBytes: options.maxBufferBytes });

const needWeights = (weights: DecoderWeights | null, backend: string): DecoderWeights =>
  weights ?? fail('BAD_OPTION', `weights are required for the ${backend} backend`);

export const BACKENDS = {
  webgpu: {
    needsWeights: true,
    async create(_model, weights, options) {
      const { device, owned } = await gpuDevice(options);
      try {
        return webgpuOn(device, owned, needWeights(weights, 'webgpu'), options);
      } catch (e) {
        if (owned) device.destroy();
        throw e;
      }
    },
  },
  native: {
    needsWeights: true,
    create: (_model, weights, options) => createNativeDecoder(needWeights(weights, 'native'), { ...bandCap(options), ...options.native, latentSpace: options.latentSpace ?? 'model' }),
  },
  wasm: {
    needsWeights: true,
    create: (_model, weights, options) => createWasmDecoder(needWeights(weights, 'wasm'), { ...bandCap(options), ...options.wasm, latentSpace: options.latentSpace ?? 'model' }),
  },
  linear: {
    needsWeights: false,
    // With a device, canvases are drawn by the WGSL twin of the preview.
    async create(model, _weights, options) {
      const upscale = options.linearUpscale ?? 1, latentSpace = options.latentSpace ?? 'model';
      const linear = createLinearDecoder(model, { upscale, latentSpace });
      return options.device ? linearOnGpu(linear, options.device, upscale, latentSpace) : linear;
    },
  },
} satisfies Record<BackendKind, Backend>;

export const BACKEND_KINDS = Object.keys(BACKENDS) as BackendKind[];

export function isBackendKind(kind: unknown): kind is BackendKind {
  return typeof kind === 'string' && Object.hasOwn(BACKENDS, kind);
}
