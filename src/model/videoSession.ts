// A TAEHV decode in chunks of latent frames with every MemBlock's last frame carried from chunk to
// chunk: the session object owns that state (outside any backend's buffer reuse or plan cache),
// so a stream of pushes, a whole video in chunks and a whole video at once give the same frames.
import { fail, isTaesdError } from '../errors.js';
import type { RawImage, RgbaImage } from './rgba.js';
import { rawToRgba } from './rgba.js';
import { frameRule, FrameSelector } from './videoFrames.js';
import { lowerVideoDecoder, stageFrameBytes, videoSkips, videoStages, type VideoGraph, type VideoStage } from './videoGraph.js';
import type { VideoLatent } from './videoLatent.js';
import type { VideoWeights } from './videoWeights.js';

/** What a backend does for a session (`S`: a backend's carried frame, a Float32Array or a GPU buffer). */
interface VideoRunnerBase<S> {
  /** A carried frame of zeros (before a video's first frame) of `channels` x `height` x `width`. */
  zeroState(channels: number, height: number, width: number): S;
  /** Takes back the carried frames of a video that ended (a GPU runner reuses their buffers). */
  releaseStates?(states: readonly S[]): void;
}

/** A CPU backend's: one stage at a time on some of its frames, with that stage's carried states. */
export interface VideoStageRunner<S = Float32Array> extends VideoRunnerBase<S> {
  /**
   * Runs `stage` (its index in `stages`) on `input` `[n, C, h, w]`; `states` are the stage's carried
   * frames in `stage.states` order. Returns the output `[m, C', H, W]` and the states after.
   */
  runStage(graph: VideoGraph, key: string, index: number, stage: VideoStage, input: Float32Array, dims: readonly number[], states: readonly S[]): Promise<{ data: Float32Array; dims: readonly number[]; states: S[] }>;
}

/** A chunk a GPU backend has submitted: its dims and states now, its frames once they are back. */
export interface SubmittedChunk<S> {
  readonly dims: readonly number[];
  /** The carried frames after the chunk: the next chunk may be submitted with them at once. */
  readonly states: S[];
  readonly data: Promise<Float32Array | Uint8ClampedArray | GPUTexture[]>;
}

/** A GPU backend's: a whole chunk on the device, from latent to raw frames, read back once. */
export interface VideoChunkRunner<S> extends VideoRunnerBase<S> {
  /**
   * Submits chunk `[n, C, h, w]` through every stage, stage `i` in runs of at most `runs[i]` frames.
   * `states`: all the graph's carried frames (graph order). Resolves once the work is submitted;
   * `data` then gives the raw frames `[m, 3, H, W]` (`rgba`: RGBA8 `[m, H, W, 4]`; `textures`: a
   * texture per frame, left on the GPU), so that the next chunk runs while this one is read back.
   */
  runChunk(stages: readonly VideoStage[], runs: readonly number[], input: Float32Array | GpuLatentFrames, dims: readonly number[], states: readonly S[], out: ChunkOut): Promise<SubmittedChunk<S>>;
}

/** Latent frames [t0, t0 + n) of a GPU-resident NCTHW float32 latent of `frames` frames. */
export interface GpuLatentFrames { readonly buffer: GPUBuffer; readonly frames: number; readonly t0: number }

export type VideoRunner<S> = VideoStageRunner<S> | VideoChunkRunner<S>;

/** A decoded frame left on the GPU: an `rgba8unorm` texture on the decoder's device. */
export interface GpuVideoFrame {
  readonly width: number;
  readonly height: number;
  /** width x height, usage STORAGE_BINDING | COPY_SRC | COPY_DST | TEXTURE_BINDING; the caller's to destroy. */
  readonly texture: GPUTexture;
}

/** What a chunk runner hands back: raw floats, RGBA bytes read back, or a texture per frame left on the device. */
export type ChunkOut = 'raw' | 'rgba' | 'textures';

/** The frames a session gives: raw floats, RGBA, or GPU textures (the last two made on the device by a chunk runner). */
export interface FrameForm<F> {
  readonly out: ChunkOut;
  /** A frame from its raw floats (stage runners, and the blank frames of a padded window). */
  fromRaw(raw: RawImage): F;
  /** A frame from the RGBA bytes a chunk runner read back. */
  fromRgba(image: RgbaImage): F;
  /** A frame from a texture a chunk runner left on the device. */
  fromTexture(frame: GpuVideoFrame): F;
  /** Frees a decoded frame the video does not keep (trimmed, or in the dropped tail). */
  drop?(frame: F): void;
}

const refuse = (what: string) => (): never => fail('INTERNAL', `a video decode got ${what} frames it did not ask for`);
export const RAW_FRAMES: FrameForm<RawImage> = { out: 'raw', fromRaw: (f) => f, fromRgba: refuse('RGBA'), fromTexture: refuse('texture') };
export const RGBA_FRAMES: FrameForm<RgbaImage> = { out: 'rgba', fromRaw: rawToRgba, fromRgba: (f) => f, fromTexture: refuse('texture') };

export interface VideoDecodeOptions {
  /** Output size relative to a full decode: 1 (default), 1/2, 1/4, 1/8 (base decoders; super decoders only 1). */
  readonly scale?: number;
  /** Output frames relative to a full decode: 1 (default), 1/2, 1/4 (LTX-2 also 1/8): time upscales off from the last. */
  readonly timeScale?: number;
  /** Latent frames per chunk (default: as many as the memory budget allows). */
  readonly chunk?: number;
}

/**
 * Most frames one stage run takes, and the most bytes (of its two largest maps) a run of more than
 * one frame may hold: onnxruntime holds more at once than the estimate counts. Natively, runs of
 * 1 frame at full resolution took a Wan 480x832 stream 10% less time than runs of 2, at a lower
 * peak; at 240x416, runs of 2 are 7% faster than runs of 1; small previews gain 12% from runs of
 * 4 over runs of 2 (fewer runs), and 8 gain nothing more.
 */
const MAX_RUN_FRAMES = 4;
const MAX_RUN_BYTES = 128 << 20;

/** One stage's frames in flight: data `[n, C, h, w]`. */
interface Frames { readonly data: Float32Array; readonly n: number }

export class VideoSession<S = Float32Array, F = RawImage> {
  readonly graph: VideoGraph;
  private readonly stages: VideoStage[];
  private readonly key: string;
  private states: S[] | null = null;
  private size: { h: number; w: number } | null = null;
  private selector: FrameSelector<F> | null = null;

  /** `latentFrames`: the video's length where known (the CogVideoX rule needs it); null for a stream. */
  constructor(
    private readonly runner: VideoRunner<S>,
    readonly weights: VideoWeights,
    private readonly options: VideoDecodeOptions,
    /** Largest bytes one stage run may hold (about). */
    private readonly maxChunkBytes: number,
    private readonly latentFrames: number | null,
    private frameForm: FrameForm<F>,
  ) {
    const skips = videoSkips(weights.model, options.scale, options.timeScale);
    this.graph = lowerVideoDecoder(weights, skips);
    this.stages = videoStages(this.graph);
    this.key = `${skips.skipUpsamples}:${skips.skipTimeUpsamples}`;
    const { chunk } = options;
    if (chunk !== undefined && !(Number.isInteger(chunk) && chunk >= 1)) fail('BAD_OPTION', `chunk must be an integer >= 1 (latent frames), got ${String(chunk)}`);
  }

  /** Frames each stage may run at once at an h x w latent; BAD_OPTION when one frame of a stage (or the chunk asked for, up to the `frames` decoded) cannot fit. */
  private runFrames(h: number, w: number, frames = Infinity): number[] {
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    return this.stages.map((stage, i) => {
      const per = stageFrameBytes(stage, h, w);
      const n = Math.floor(this.maxChunkBytes / per);
      if (n < 1) fail('BAD_OPTION', `a ${h}x${w} latent cannot fit: one frame of stage ${i} needs about ${mib(per)}, over the ${mib(this.maxChunkBytes)} memory budget; raise maxChunkBytes or decode at scale 1/2`);
      const chunk = Math.min(this.options.chunk ?? 0, frames);
      if (i === 0 && chunk > n) {
        fail('BAD_OPTION', `chunk ${this.options.chunk} cannot fit: ${chunk} latent frames of ${h}x${w} need about ${mib(per * chunk)}, over the ${mib(this.maxChunkBytes)} memory budget (at most ${n})`);
      }
      return Math.min(Math.max(1, Math.min(MAX_RUN_FRAMES, Math.floor(MAX_RUN_BYTES / per))), n);
    });
  }

  /** How frames come out: raw, RGBA or textures. A stream sets it before each video (push: RGBA, pushRaw: raw). */
  get form(): FrameForm<F> {
    return this.frameForm;
  }

  set form(form: FrameForm<F>) {
    if (this.started && form !== this.frameForm) fail('INTERNAL', 'a video session changed its frame form mid-video');
    this.frameForm = form;
  }

  /** Whether a video is under way: frames pushed since the last flush or reset. */
  get started(): boolean {
    return this.size !== null;
  }

  /**
   * Decodes latent frames [t0, t1) of `latent` (after those pushed before); returns the frames now
   * final, handing each chunk's to `each` as they come. A GPU runner's next chunk is submitted
   * before this one's frames are read back, so the GPU does not wait on the readback.
   */
  async push(latent: VideoLatent, t0 = 0, t1 = latent.frames, each?: (frames: F[]) => void | Promise<void>): Promise<F[]> {
    const { height: h, width: w } = latent;
    if (this.size && (this.size.h !== h || this.size.w !== w)) fail('LATENT_SHAPE', `latent frames are ${h}x${w}, but this stream started at ${this.size.h}x${this.size.w}; reset() to start another`);
    const runs = this.runFrames(h, w, t1 - t0);
    if (!this.size) this.start(h, w);
    const chunk = this.options.chunk ?? runs[0]!;
    const out: F[] = [];
    let pending: Promise<F[]> | null = null;
    const settle = async (frames: Promise<F[]>) => {
      const kept = this.selector!.push(await frames);
      out.push(...kept);
      if (each && kept.length) await each(kept);
    };
    try {
      for (let a = t0; a < t1; a += chunk) {
        let next: Promise<F[]>;
        try {
          ({ frames: next } = await this.runChunk(latent, a, Math.min(t1, a + chunk), runs));
        } catch (e) {
          // The chunk before still comes out (to `each` too), as it would have unpipelined.
          const before = pending;
          pending = null;
          if (before) await settle(before).catch(() => undefined);
          throw e;
        }
        const before = pending;
        pending = next;
        if (before) await settle(before);
      }
      const last = pending;
      pending = null;
      if (last) await settle(last);
    } catch (e) {
      // A chunk submitted but never settled: its frames (GPU textures) are freed, its error dropped.
      if (pending) void pending.then((frames) => frames.forEach((f) => this.form.drop?.(f)), () => undefined);
      // The carried frames died with the device (or are half-updated): the next push starts a new video.
      if (isTaesdError(e, 'DEVICE_LOST')) this.reset();
      throw e;
    }
    return out;
  }

  /** The end of the video: the frames still held (H3's padded last window, less its tail). Then the session starts over. */
  flush(): F[] {
    const out = this.selector?.finish() ?? [];
    this.reset();
    return out;
  }

  /** Forgets the carried frames: the next push starts a new video. */
  reset(): void {
    if (this.states) this.runner.releaseStates?.(this.states);
    this.states = null;
    this.size = null;
    this.selector = null;
  }

  private start(h: number, w: number): void {
    this.states = this.graph.states.map((v) => this.runner.zeroState(v.channels, h << v.level, w << v.level));
    this.size = { h, w };
    const rule = frameRule(this.weights.model.frameRule, this.graph.timeUpscale, this.latentFrames);
    const { output, upscale } = this.graph;
    const H = h * upscale, W = w * upscale;
    this.selector = new FrameSelector<F>(rule, () => this.form.fromRaw({ width: W, height: H, data: new Float32Array(output.channels * H * W) }), this.form.drop);
  }

  /**
   * Runs every stage over one chunk, depth first: each run's output goes on through the later
   * stages before the next run starts, so no stage's whole-chunk output is ever held. Resolves
   * once the chunk's states are known (a GPU runner's: once it is submitted), with its raw frames
   * in order to come.
   */
  private async runChunk(latent: VideoLatent, t0: number, t1: number, runs: readonly number[]): Promise<{ frames: Promise<F[]> }> {
    const { height: h, width: w, channels: c, buffer } = latent;
    const H = h * this.graph.upscale, W = w * this.graph.upscale, per = 3 * H * W;
    const { runner, form } = this;
    if ('runChunk' in runner) {
      // The backend keeps the chunk on its device from latent to raw frames (or RGBA).
      const input = buffer ? { buffer, frames: latent.frames, t0 } : latent.read(t0, t1);
      const r = await runner.runChunk(this.stages, runs, input, [t1 - t0, c, h, w], this.states!, form.out);
      this.states = r.states;
      const frames = r.data.then((data) => Array.from({ length: r.dims[0]! }, (_, k) => {
        if (Array.isArray(data)) return form.fromTexture({ width: W, height: H, texture: data[k]! });
        if (data instanceof Uint8ClampedArray) return form.fromRgba({ width: W, height: H, data: data.subarray(k * 4 * H * W, (k + 1) * 4 * H * W) });
        return form.fromRaw({ width: W, height: H, data: data.subarray(k * per, (k + 1) * per) });
      }));
      frames.catch(() => undefined); // awaited by push, unless an earlier chunk failed first
      return { frames };
    }
    const out: F[] = [];
    const through = async (i: number, x: Frames): Promise<void> => {
      const stage = this.stages[i];
      if (!stage) {
        for (let k = 0; k < x.n; k++) out.push(form.fromRaw({ width: W, height: H, data: x.data.subarray(k * per, (k + 1) * per) }));
        return;
      }
      const size = x.data.length / x.n;
      const dims = (n: number) => [n, stage.input.channels, h << stage.input.level, w << stage.input.level];
      for (let a = 0; a < x.n; a += runs[i]!) {
        const n = Math.min(x.n, a + runs[i]!) - a;
        const states = stage.states.map((s) => this.states![s]!);
        const r = await runner.runStage(this.graph, this.key, i, stage, x.data.subarray(a * size, (a + n) * size), dims(n), states);
        r.states.forEach((s, k) => { this.states![stage.states[k]!] = s; });
        await through(i + 1, { data: r.data, n: r.dims[0]! });
      }
    };
    await through(0, { data: latent.read(t0, t1), n: t1 - t0 });
    return { frames: Promise.resolve(out) };
  }
}
