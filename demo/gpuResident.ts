// Latents already on the GPU (issue #13): an onnxruntime-web WebGPU session stands in for an
// in-page sampler; its output tensor stays in a GPUBuffer (`preferredOutputLocation: 'gpu-buffer'`)
// and taesd-web decodes that buffer on onnxruntime's own device, straight into a canvas.
//
// onnxruntime-web/webgpu, not onnxruntime-web: that build is a separate instance from the one
// taesd-web's WASM backend runs in its proxy worker, and a proxied onnxruntime refuses gpu-buffer
// outputs ("preferredOutputLocation is not supported for proxy"; the proxy flag is fixed per
// instance at its first session).
import type * as Ort from 'onnxruntime-web/webgpu';
import asyncifyWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { createDecoder, type Decoder, type StateDict } from 'taesd-web';
import { SAMPLER_INPUT, SAMPLER_OUTPUT, samplerStepModel } from './samplerGraph.js';
import { centreCrop, exampleLatent, latentDims } from './sources.js';

type OrtModule = typeof Ort;

/** How far each stand-in sampler step moves toward the example latent. */
export const RATE = 0.35;

let ortModule: Promise<OrtModule> | null = null;

function loadOrt(): Promise<OrtModule> {
  ortModule ??= import('onnxruntime-web/webgpu').then((ort) => {
    ort.env.wasm.wasmPaths = { wasm: asyncifyWasm };
    // The sampler's ops run on the GPU: no WASM threads (and no thread workers) needed.
    ort.env.wasm.numThreads = 1;
    return ort;
  });
  return ortModule;
}

/** Seeded uniform noise in [-2, 2): where the stand-in sampler starts. */
function startNoise(n: number): Float32Array {
  let s = 7;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 4 - 2);
}

/** A stand-in sampler whose latent lives in a GPUBuffer, and a taesd-web decoder on the same device. */
export class ResidentSampler {
  private constructor(
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    /** The latent shape [C, h, w] the decoder is given (the session's is [1, C, h, w]). */
    readonly shape: readonly number[],
    /** onnxruntime-web's GPUDevice, which the decoder shares (and never destroys). */
    readonly device: GPUDevice,
    readonly decoder: Decoder,
    private x: Ort.Tensor,
  ) {}

  /** A session converging to the centre `side x side` of the example latent; weights: taef2. */
  static async create(side: number, weights: StateDict): Promise<ResidentSampler> {
    const ort = await loadOrt();
    const target = centreCrop(await exampleLatent(), side);
    const { channels } = latentDims(target);
    const shape4 = [1, channels, side, side];
    const session = await ort.InferenceSession.create(samplerStepModel(target.data, shape4, RATE), {
      executionProviders: ['webgpu'],
      preferredOutputLocation: 'gpu-buffer',
    });
    // Set by the first webgpu session: the device its tensors' buffers belong to.
    const device = await ort.env.webgpu.device;
    const decoder = await createDecoder({ weights, backend: 'webgpu', device });
    const x = new ort.Tensor('float32', startNoise(target.data.length), shape4);
    return new ResidentSampler(ort, session, target.shape, device, decoder, x);
  }

  /** Back to the starting noise. */
  restart(): void {
    this.release();
    this.x = new this.ort.Tensor('float32', startNoise(this.x.size), this.x.dims);
  }

  /** One sampler step; the result stays on the GPU and is the next step's input. */
  async step(): Promise<Ort.Tensor> {
    const out = (await this.session.run({ [SAMPLER_INPUT]: this.x }))[SAMPLER_OUTPUT]!;
    this.release();
    this.x = out;
    return out;
  }

  /** The GPU-resident path: the tensor's buffer, decoded into the canvas on the shared device; resolves once drawn. */
  async drawResident(tensor: Ort.Tensor, canvas: HTMLCanvasElement | OffscreenCanvas): Promise<void> {
    await this.decoder.decodeToCanvas({ buffer: tensor.gpuBuffer as GPUBuffer, shape: this.shape, dtype: 'float32' }, canvas);
  }

  /** The CPU round trip, for comparison: read the tensor back, decode it from the CPU. Resolves with the readback's time, ms. */
  async drawViaCpu(tensor: Ort.Tensor, canvas: HTMLCanvasElement | OffscreenCanvas): Promise<number> {
    const t0 = performance.now();
    const data = (await tensor.getData()) as Float32Array;
    const readMs = performance.now() - t0;
    await this.decoder.decodeToCanvas({ data, shape: this.shape }, canvas);
    return readMs;
  }

  /** Frees the decoder and the session; onnxruntime's device stays (it is onnxruntime's). */
  async destroy(): Promise<void> {
    this.decoder.destroy();
    this.release();
    await this.session.release();
  }

  /** Disposes the current input when it is one of the session's GPU outputs. */
  private release(): void {
    if (this.x.location === 'gpu-buffer') this.x.dispose();
  }
}
