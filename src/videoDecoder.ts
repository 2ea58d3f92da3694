// createVideoDecoder: TAEHV weights loaded and checked, decoded on WebGPU or onnxruntime (native in
// Node, WASM elsewhere) in chunks of latent frames, whole or as a stream (upstream's StreamingTAEHV).
import { fail, isTaesdError } from './errors.js';
import { nativeRuntime, type NativeDecoderOptions } from './fallback/native.js';
import type { OrtRuntime } from './fallback/ort.js';
import { rawToRgba } from './model/rgba.js';
import { OrtVideoRunner } from './fallback/videoOrt.js';
import { wasmRuntime, type WasmDecoderOptions } from './fallback/wasm.js';
import type { LatentSpace } from './model/decoderTypes.js';
import type { RawImage, RgbaImage } from './model/rgba.js';
import { frameRule, outputFrameCount } from './model/videoFrames.js';
import { lowerVideoDecoder, videoDecodeFlops, videoSkips } from './model/videoGraph.js';
import { prepareVideoLatent, type AnyVideoLatentInput, type VideoLatentInput } from './model/videoLatent.js';
import type { VideoModelId, VideoModelSpec } from './model/videoRegistry.js';
import { RAW_FRAMES, RGBA_FRAMES, VideoSession, type FrameForm, type GpuVideoFrame, type VideoDecodeOptions } from './model/videoSession.js';
import { resolveVideoWeights, VIDEO_MAX_ELEMENTS, type VideoWeights } from './model/videoWeights.js';
import { parseWeights, readSource, type WeightsSource } from './weights/load.js';
import type { StateDict } from './weights/tensor.js';
import { isNode } from './platform.js';
import { drawTexture } from './gpu/canvas.js';
import { webGpuVideoRunner, type WebGpuVideoOptions } from './gpu/videoRunner.js';
import { textureFrames } from './gpu/videoRgba.js';
export type { WebGpuVideoOptions } from './gpu/videoRunner.js';
import type { VideoRunner } from './model/videoSession.js';

/** `'auto'`: WebGPU on a hardware adapter; else native onnxruntime in Node where installed, else WASM. */
export type VideoBackendChoice = 'auto' | 'native' | 'wasm' | 'webgpu';

export interface CreateVideoDecoderOptions {
  /** A TAEHV file (whole checkpoint or decoder only, .pth or .safetensors): URL, path (Node), bytes, or a parsed state dict. */
  readonly weights: WeightsSource | StateDict;
  /** Model id; needed where the weights fit several (e.g. 16 channels: taehv, taew2_1, taecvx, taeos1_3) and the file name does not tell. */
  readonly model?: VideoModelId;
  readonly backend?: VideoBackendChoice;
  /** About the most bytes one stage run may hold (default 512 MiB); sets the default chunk. */
  readonly maxChunkBytes?: number;
  readonly native?: Omit<NativeDecoderOptions, 'latentSpace' | 'maxBufferBytes'>;
  readonly wasm?: WasmDecoderOptions;
  /** WebGPU: a device of the caller's and the storage precision. */
  readonly webgpu?: WebGpuVideoOptions;
}

/** A backend's stage runner, as the decoder holds it. */
interface VideoBackend {
  readonly name: 'native' | 'wasm' | 'webgpu';
  readonly runner: VideoRunner<unknown>;
  /** Default bytes one stage run may hold. */
  readonly budget: number;
  /** WebGPU's device; null on onnxruntime. */
  readonly device: GPUDevice | null;
  release(): Promise<void>;
}

export interface VideoCallOptions<F> extends VideoDecodeOptions {
  /** Called with the frames each chunk finishes (in order; `first` is the first one's index). */
  readonly onFrames?: (frames: F[], first: number) => void | Promise<void>;
}

const DEFAULT_CHUNK_BYTES = { native: 512 << 20, wasm: 512 << 20, webgpu: 512 << 20 } as const;

/**
 * A stream of latent frames decoded as they arrive (upstream's StreamingTAEHV); owns the carried
 * MemBlock frames. A video's first push sets its frames' form until flush or reset: `push` gives
 * RGBA (made on the GPU with WebGPU), `pushRaw` raw floats.
 */
export interface VideoStream {
  /** Output frames per latent frame at this stream's settings. */
  readonly timeUpscale: number;
  /** Feeds latent frames `[1,C,t,h,w]` or `[C,t,h,w]` (the same h x w each time); returns the raw frames now final. */
  pushRaw(latent: VideoLatentInput): Promise<RawImage[]>;
  /** As pushRaw, RGBA frames (clamped to [0,1], x255, rounded). */
  push(latent: VideoLatentInput): Promise<RgbaImage[]>;
  /** The end of the stream: the frames still held (H3: its padded last window, less the tail). The stream then starts a new video. */
  flushRaw(): RawImage[];
  flush(): RgbaImage[];
  /** Drops the carried frames: the next push starts a new video. */
  reset(): void;
}

type StreamFrame = RawImage | RgbaImage;

class SessionStream implements VideoStream {
  constructor(private readonly session: VideoSession<unknown, StreamFrame>, private readonly gone: () => void) {}

  get timeUpscale(): number {
    return this.session.graph.timeUpscale;
  }

  pushRaw(latent: VideoLatentInput): Promise<RawImage[]> {
    return this.pushAs(RAW_FRAMES, 'pushRaw', latent) as Promise<RawImage[]>;
  }

  push(latent: VideoLatentInput): Promise<RgbaImage[]> {
    return this.pushAs(RGBA_FRAMES, 'push', latent) as Promise<RgbaImage[]>;
  }

  flushRaw(): RawImage[] {
    if (this.session.form === RGBA_FRAMES && this.session.started) fail('BAD_OPTION', 'this video was pushed with push(), so its held frames are RGBA: end it with flush()');
    return this.session.flush() as RawImage[];
  }

  flush(): RgbaImage[] {
    const raw = this.session.form === RAW_FRAMES;
    return this.session.flush().map((f) => (raw ? rawToRgba(f as RawImage) : (f as RgbaImage)));
  }

  reset(): void {
    this.session.reset();
  }

  private async pushAs(form: FrameForm<StreamFrame>, call: 'push' | 'pushRaw', latent: VideoLatentInput): Promise<StreamFrame[]> {
    this.gone();
    const { session } = this;
    if (session.started && session.form !== form) fail('BAD_OPTION', `this video was started with ${call === 'push' ? 'pushRaw()' : 'push()'}; a video's frames keep one form: flush() or reset() before ${call}()`);
    session.form = form;
    return session.push(prepareVideoLatent(latent, session.weights.model));
  }
}

export class VideoDecoder {
  private destroyed = false;

  private constructor(private readonly runner: VideoBackend, private readonly weights: VideoWeights, private readonly maxChunkBytes: number) {}

  get model(): VideoModelSpec {
    return this.weights.model;
  }

  /** How the model was chosen: given, or detected from the tensors' shapes (and the file name). */
  get modelReason(): string {
    return this.weights.modelReason;
  }

  get backend(): 'native' | 'wasm' | 'webgpu' {
    return this.runner.name;
  }

  /** The space this file's latents are in: `'model'` (madebyollin's, a sampler's latents) or `'vae'` (lightx2v's). Latents are decoded as given. */
  get latentSpace(): LatentSpace {
    return this.weights.latentSpace;
  }

  static async create(options: CreateVideoDecoderOptions): Promise<VideoDecoder> {
    const { dict, name } = options.weights instanceof Map
      ? { dict: options.weights, name: 'state dict' }
      : await (async () => { const { bytes, name: n } = await readSource(options.weights as WeightsSource); return { dict: parseWeights(bytes, n, VIDEO_MAX_ELEMENTS), name: n }; })();
    const weights = resolveVideoWeights(dict, { ...(options.model !== undefined && { model: options.model }), sourceName: name });
    const backend = await videoBackend(options);
    const budget = options.maxChunkBytes ?? backend.budget;
    if (!(Number.isFinite(budget) && budget >= 1 << 20)) { void backend.release(); fail('BAD_OPTION', `maxChunkBytes must be a number >= 1 MiB, got ${String(budget)}`); }
    return new VideoDecoder(backend, weights, budget);
  }

  /** Frames a decode of `latentFrames` gives at `options`' settings (upstream's count). */
  outputFrames(latentFrames: number, options: VideoDecodeOptions = {}): number {
    const { timeUpscale } = lowerVideoDecoder(this.weights, videoSkips(this.model, options.scale, options.timeScale));
    return outputFrameCount(frameRule(this.model.frameRule, timeUpscale, latentFrames), latentFrames, timeUpscale);
  }

  /**
   * Multiply-adds x 2 of decoding `latentFrames` latent frames of `height` x `width` at `options`'
   * settings, counted on the op list: what a cheaper scale or timeScale saves (less than its pixels).
   */
  flops(latentFrames: number, height: number, width: number, options: VideoDecodeOptions = {}): number {
    return videoDecodeFlops(this.weights, latentFrames, height, width, options.scale, options.timeScale);
  }

  /** A whole video `[1,C,T,h,w]` or `[C,T,h,w]` -> raw frames `[3,H,W]` (unclamped), decoded chunk by chunk. */
  decodeVideoRaw(latent: AnyVideoLatentInput, options: VideoCallOptions<RawImage> = {}): Promise<RawImage[]> {
    return this.run(latent, options, RAW_FRAMES);
  }

  /** A whole video -> RGBA frames (clamped to [0,1], x255, rounded), converted as each chunk finishes (on the GPU with WebGPU). */
  decodeVideo(latent: AnyVideoLatentInput, options: VideoCallOptions<RgbaImage> = {}): Promise<RgbaImage[]> {
    return this.run(latent, options, RGBA_FRAMES);
  }

  /**
   * WebGPU only: a whole video -> frames left on the GPU as `rgba8unorm` textures (no readback;
   * resolves once the GPU has made them), for a player that draws them (drawFrame) or a caller's
   * own pipeline. The textures are the caller's to destroy. BAD_OPTION on the other backends.
   */
  async decodeVideoToTextures(latent: AnyVideoLatentInput, options: VideoCallOptions<GpuVideoFrame> = {}): Promise<GpuVideoFrame[]> {
    return this.run(latent, options, textureFrames(this.gpuDevice('decodeVideoToTextures')));
  }

  /** Draws a frame of decodeVideoToTextures into a WebGPU canvas (configured for this decoder's device, sized to the frame): a texture copy, no readback. */
  drawFrame(frame: GpuVideoFrame, context: GPUCanvasContext): void {
    drawTexture(context, this.gpuDevice('drawFrame'), frame.texture);
  }

  private gpuDevice(what: string): GPUDevice {
    this.alive();
    return this.runner.device ?? fail('BAD_OPTION', `${what} needs the WebGPU backend; this decoder runs on ${this.backend}`);
  }

  private async run<F>(latent: AnyVideoLatentInput, options: VideoCallOptions<F>, form: FrameForm<F>): Promise<F[]> {
    this.alive();
    const video = prepareVideoLatent(latent, this.model);
    if (video.buffer && this.backend !== 'webgpu') fail('BAD_OPTION', `a GPU-resident video latent decodes on the WebGPU backend only; this decoder runs on ${this.backend}`);
    const session = new VideoSession(this.runner.runner, this.weights, options, this.maxChunkBytes, video.frames, form);
    const frames: F[] = [];
    const emit = async (got: F[]) => {
      if (got.length && options.onFrames) await options.onFrames(got, frames.length);
      frames.push(...got);
    };
    await session.push(video, 0, video.frames, emit);
    await emit(session.flush());
    return frames;
  }

  /** A stream: push latent frames as they arrive, flush at the end (CogVideoX is never trimmed, as upstream's StreamingTAEHV). */
  stream(options: Omit<VideoDecodeOptions, 'chunk'> & { readonly chunk?: number } = {}): VideoStream {
    this.alive();
    return new SessionStream(new VideoSession<unknown, StreamFrame>(this.runner.runner, this.weights, options, this.maxChunkBytes, null, RAW_FRAMES), () => this.alive());
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    void this.runner.release();
  }

  private alive(): void {
    if (this.destroyed) fail('DESTROYED', `the ${this.model.id} video decoder was destroyed`);
  }
}

const ortBackend = (runtime: OrtRuntime): VideoBackend => {
  const runner = new OrtVideoRunner(runtime);
  return { name: runtime.backend, runner, budget: DEFAULT_CHUNK_BYTES[runtime.backend], device: null, release: () => runner.release() };
};

async function videoBackend(options: CreateVideoDecoderOptions): Promise<VideoBackend> {
  const backend = options.backend ?? 'auto';
  if (backend === 'webgpu' || backend === 'auto') {
    const gpu = await webGpuVideoRunner(options.webgpu ?? {}, backend === 'auto').catch((e: unknown) => {
      // No WebGPU here: auto goes on to onnxruntime.
      if (backend === 'auto' && isTaesdError(e, 'NO_WEBGPU')) return null;
      throw e;
    });
    if (gpu) {
      const { runner, owned } = gpu;
      // The memory budget sets the chunk; the runner cuts each run further to the device's binding and dispatch limits.
      return { name: 'webgpu', runner, budget: DEFAULT_CHUNK_BYTES.webgpu, device: runner.device, release: () => runner.release().then(() => { if (owned) runner.device.destroy(); }) };
    }
  }
  return ortBackend(await videoRuntime(options, backend));
}

async function videoRuntime(options: CreateVideoDecoderOptions, backend: VideoBackendChoice): Promise<OrtRuntime> {
  if (backend === 'native') return nativeRuntime(options.native ?? {});
  if (backend === 'wasm') return wasmRuntime(options.wasm ?? {});
  if (backend !== 'auto') fail('BAD_OPTION', `video backend must be 'auto', 'native', 'wasm' or 'webgpu', got ${String(backend)}`);
  if (isNode) {
    try {
      return await nativeRuntime(options.native ?? {});
    } catch (e) {
      // onnxruntime-node is optional: WASM runs everywhere.
      if (!isTaesdError(e, 'BACKEND_UNAVAILABLE')) throw e;
    }
  }
  return wasmRuntime(options.wasm ?? {});
}

/** Creates a TAEHV video decoder; see CreateVideoDecoderOptions. */
export function createVideoDecoder(options: CreateVideoDecoderOptions): Promise<VideoDecoder> {
  return VideoDecoder.create(options);
}
