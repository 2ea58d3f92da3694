// The TAEHV stages on WebGPU for a VideoSession: a chunk's latent is uploaded once, every stage's
// runs (the op list, videoSteps.ts) feed the next on the GPU, and the raw frames come back in one
// readback; the carried MemBlock frames stay GPU buffers, owned by the session (zeros before a
// video's first frame). Runs are cut to WebGPU's limits.
import { fail } from '../errors.js';
import type { VideoStage } from '../model/videoGraph.js';
import type { ChunkOut, GpuLatentFrames, SubmittedChunk, VideoChunkRunner } from '../model/videoSession.js';
import type { DepthwiseWeights } from '../model/videoWeights.js';
import type { ConvWeights } from '../model/weights.js';
import { BufferPool } from './bufferPool.js';
import { act4Bytes, convShapeKey, convVariant, CONV_VARIANTS, DEFAULT_CONV, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import { deviceAdapterInfo, isFallbackAdapter, requestGpuDevice } from './device.js';
import { blocks } from './program.js';
import { GpuSubmitter } from './submit.js';
import { processStore, tuneConv, type TuningStore } from './tune.js';
import { compileRgba, encodeRgba } from './videoRgba.js';
import { compileStage, encodeStageRun, stageZeroVec4s, valueFrameBytes, valueSize, type VideoGpu } from './videoSteps.js';

export class WebGpuVideoRunner implements VideoChunkRunner<GPUBuffer>, VideoGpu {
  private readonly submitter: GpuSubmitter;
  private readonly pool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly packed = new WeakMap<ConvWeights | DepthwiseWeights, GPUBuffer>();
  private readonly owned: GPUBuffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();
  /** Chunks submitted whose frames are still being read back (release waits for them). */
  private readonly reading = new Set<Promise<unknown>>();

  private readonly choices = new Map<string, Promise<ConvVariant>>();
  private readonly chosen = new Map<string, ConvVariant>();
  private readonly compiled = new WeakMap<VideoStage, string>();

  /**
   * `conv`: 'direct' (what CPU-emulated adapters run best), 'tiled' (the first workgroup-tiled
   * variant that fits a shape, else direct) or 'tune' (the fastest measured, as image decoders do).
   */
  constructor(readonly device: GPUDevice, readonly precision: Precision, private readonly conv: 'direct' | 'tiled' | 'tune' = 'direct', private readonly store: TuningStore = processStore) {
    this.submitter = new GpuSubmitter(device);
    this.pool = new BufferPool(device);
    this.stagingPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  buffer(label: string, bytes: number): GPUBuffer {
    return this.pool.take(label, bytes);
  }

  async chooseVariant(shape: ConvShape, outW: number, outRows: number): Promise<void> {
    if (this.conv !== 'tune') return;
    const key = convShapeKey(shape);
    let choice = this.choices.get(key);
    if (!choice) {
      choice = tuneConv(this.submitter, shape, outW, outRows, this.store).then((c) => convVariant(c.variant));
      // A failed tuning is not remembered: the next chunk tunes again.
      choice.catch(() => this.choices.get(key) === choice && this.choices.delete(key));
      this.choices.set(key, choice);
    }
    const v = await choice;
    this.chosen.set(key, v.refuses(shape) === null ? v : DEFAULT_CONV);
  }

  variant(shape: ConvShape): ConvVariant {
    const tuned = this.chosen.get(convShapeKey(shape));
    if (tuned) return tuned;
    // f32 math only: the f16-math tiled variants are the tuner's call, not a default.
    return (this.conv !== 'direct' && CONV_VARIANTS.find((v) => v.kernel === 'convTiled' && !v.id.endsWith('-f16') && v.refuses(shape) === null)) || DEFAULT_CONV;
  }

  weights(of: ConvWeights | DepthwiseWeights, pack: () => Float32Array): GPUBuffer {
    let b = this.packed.get(of);
    if (!b) {
      const data = pack();
      b = this.device.createBuffer({ label: `taesd video weights ${of.key}`, size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
      this.packed.set(of, b);
      this.owned.push(b);
    }
    return b;
  }

  zeroState(channels: number, height: number, width: number): GPUBuffer {
    this.alive();
    // WebGPU zero-fills new buffers: the frame before a video's first.
    return this.device.createBuffer({ label: 'taesd video state', size: Math.max(16, height * width * blocks(channels) * act4Bytes(this.precision)), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  }

  releaseStates(states: readonly GPUBuffer[]): void {
    // Queued after the session's last chunk, whose readback has finished with them.
    void this.tail.then(() => states.forEach((b) => this.pool.give(b)));
  }

  /** Input frames one run may take at an h x w stage input: every buffer within maxStorageBufferBindingSize, every dispatch within maxComputeWorkgroupsPerDimension. */
  framesPerRun(stage: VideoStage, h: number, w: number): number {
    const { maxStorageBufferBindingSize: bind, maxComputeWorkgroupsPerDimension: groups, maxBufferSize } = this.device.limits;
    const z = stageZeroVec4s(stage) * act4Bytes(this.precision);
    const values = [stage.input, ...stage.ops.map((op) => op.out)];
    // Planar f32 in and out, and each value in the layout.
    const per = Math.max(...values.map((v) => valueFrameBytes(stage, v, this.precision, h, w)), ...[stage.input, stage.output].map((v) => valueFrameBytes(stage, v, 'f32', h, w)));
    const mostFrames = Math.max(...values.map((v) => valueSize(stage, v, { n: 1, h, w }).frames * blocks(v.channels)));
    // A run's planar output is one buffer (bounded by maxBufferSize) that the next stage or the readback copies from.
    const readback = valueFrameBytes(stage, stage.output, 'f32', h, w);
    const n = Math.min(Math.floor((bind - z) / per), Math.floor(groups / mostFrames), Math.floor(maxBufferSize / readback));
    if (n < 1) fail('BAD_OPTION', `one ${h}x${w} frame of a video stage needs ${(per / 2 ** 20).toFixed(0)} MiB in one WebGPU buffer, over this device's ${(bind / 2 ** 20).toFixed(0)} MiB binding limit; decode at a smaller scale`, { reason: 'DEVICE_LIMIT' });
    return n;
  }

  /**
   * A chunk from latent to raw frames (or RGBA) on the GPU: each run's output feeds the next
   * stage's runs (slices copied on the GPU), the last stage's outputs are copied for readback
   * together, or with `textures` left on the GPU (`data` resolves once the GPU has made them).
   * Resolves once all that is submitted; the next chunk's work queues behind it.
   */
  runChunk(stages: readonly VideoStage[], runs: readonly number[], input: Float32Array | GpuLatentFrames, dims: readonly number[], states: readonly GPUBuffer[], form: ChunkOut): Promise<SubmittedChunk<GPUBuffer>> {
    const rgba = form !== 'raw', target = form === 'textures' ? 'textures' : 'buffer';
    const run = this.tail.then(async () => {
      this.alive();
      for (const stage of stages) {
        const h = dims[2]! << stage.input.level, w = dims[3]! << stage.input.level;
        if (this.compiled.get(stage) === `${h}x${w}`) continue; // a session's later chunks: kernels chosen and compiled
        await compileStage(this, stage, h, w);
        this.compiled.set(stage, `${h}x${w}`);
      }
      if (rgba) await compileRgba(this.device, target);
      if (!(input instanceof Float32Array)) await this.checkOwn(input.buffer);
      const [n, channels, h, w] = dims as [number, number, number, number];
      const most = stages.map((s, i) => Math.min(runs[i]!, this.framesPerRun(s, h << s.input.level, w << s.input.level)));
      const carried = [...states];
      const outs: { buffer: GPUBuffer | null; bytes: number; dims: readonly [number, number, number, number] }[] = [];
      const textures: GPUTexture[] = [];
      const made = new Set<GPUBuffer>();
      const storage = (label: string, bytes: number) => { const b = this.pool.take(label, bytes); made.add(b); return b; };
      const drop = (b: GPUBuffer) => { made.delete(b); this.pool.give(b); };
      const through = async (i: number, x: GPUBuffer, m: number): Promise<void> => {
        const stage = stages[i];
        if (!stage) return;
        const size = { h: h << stage.input.level, w: w << stage.input.level };
        const frame = stage.input.channels * size.h * size.w * 4;
        for (let a = 0; a < m; a += most[i]!) {
          const k = Math.min(m, a + most[i]!) - a;
          const encoder = this.device.createCommandEncoder({ label: 'taesd video chunk' });
          const last = i === stages.length - 1;
          const { r, src, out } = await this.submitter.scoped('a video stage', () => {
            const src = k === m ? x : storage('taesd video run input', k * frame);
            if (src !== x) encoder.copyBufferToBuffer(x, a * frame, src, 0, k * frame);
            const r = encodeStageRun(this, encoder, stage, src, { n: k, ...size }, stage.states.map((s) => carried[s]!));
            [...r.temps, ...r.states, r.output].forEach((b) => made.add(b));
            const colour = last && rgba ? encodeRgba(this.device, encoder, r.output, r.outputDims, target, storage) : null;
            if (colour) [...colour.temps, ...(colour.rgba ? [colour.rgba] : [])].forEach((b) => made.add(b));
            textures.push(...(colour?.textures ?? []));
            return { r, src, out: colour ? { buffer: colour.rgba, temps: colour.temps } : null };
          });
          await this.submitter.submit(encoder, async () => undefined);
          // Destroyed buffers live on until the submitted work that uses them is done.
          [...r.temps, ...(out?.temps ?? [])].forEach((b) => { if (b !== r.output) drop(b); });
          if (src !== x) drop(src);
          stage.states.forEach((s, j) => {
            if (!states.includes(carried[s]!)) drop(carried[s]!);
            carried[s] = r.states[j]!;
          });
          const [f, c, H, W] = r.outputDims;
          if (out) { outs.push({ buffer: out.buffer, bytes: out.buffer ? f * H * W * 4 : 0, dims: r.outputDims }); drop(r.output); }
          else if (last) outs.push({ buffer: r.output, bytes: f * c * H * W * 4, dims: r.outputDims });
          else { await through(i + 1, r.output, r.outputDims[0]); drop(r.output); }
        }
      };
      try {
        const latent = storage('taesd video latent', n * channels * h * w * 4);
        if (input instanceof Float32Array) this.device.queue.writeBuffer(latent, 0, input.buffer as ArrayBuffer, input.byteOffset, input.byteLength);
        else {
          // NCTHW -> frames [n, C, h, w]: one GPU copy per frame and channel.
          const encoder = this.device.createCommandEncoder({ label: 'taesd video latent' }), plane = h * w * 4;
          for (let f = 0; f < n; f++) for (let ch = 0; ch < channels; ch++) encoder.copyBufferToBuffer(input.buffer, (ch * input.frames + input.t0 + f) * plane, latent, (f * channels + ch) * plane, plane);
          await this.submitter.submit(encoder, async () => undefined);
        }
        await through(0, latent, n);
        drop(latent);
        let data: SubmittedChunk<GPUBuffer>['data'];
        if (form === 'textures') {
          data = this.submitter.submitAndWait(this.device.createCommandEncoder({ label: 'taesd video frames' })).then(() => textures, (e: unknown) => {
            textures.forEach((t) => t.destroy());
            throw e;
          });
        } else {
          const bytes = this.readOut(outs.flatMap((o) => (o.buffer ? [{ buffer: o.buffer, bytes: o.bytes }] : [])));
          data = bytes.then((b) => (rgba ? new Uint8ClampedArray(b) : new Float32Array(b)));
        }
        const settled = data.catch(() => undefined);
        this.reading.add(settled);
        void settled.then(() => this.reading.delete(settled));
        states.forEach((b) => this.pool.give(b));
        carried.forEach((b) => made.delete(b));
        const [, c, H, W] = outs[0]!.dims;
        return { data, dims: [outs.reduce((t, o) => t + o.dims[0], 0), c, H, W], states: carried };
      } catch (e) {
        textures.forEach((t) => t.destroy());
        throw e;
      } finally {
        made.forEach((b) => this.pool.give(b));
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** BAD_OPTION unless `buffer` can be copied from on this device (a buffer of another device, or destroyed, cannot). */
  private async checkOwn(buffer: GPUBuffer): Promise<void> {
    const probe = this.device.createBuffer({ label: 'taesd video latent probe', size: 4, usage: GPUBufferUsage.COPY_DST });
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder({ label: 'taesd video latent probe' });
    encoder.copyBufferToBuffer(buffer, 0, probe, 0, 4);
    encoder.finish();
    const error = await this.device.popErrorScope();
    probe.destroy();
    if (error) fail('BAD_OPTION', `the GPU video latent cannot be read on this decoder's WebGPU device (it must be a live buffer of that same device, with COPY_SRC): ${error.message}`);
  }

  /**
   * The bytes of `outs`, in order: one readback where they fit in one buffer (maxBufferSize), else
   * one per buffer's worth. Every copy is submitted before this returns, so `outs` may be reused.
   */
  private readOut(outs: readonly { buffer: GPUBuffer; bytes: number }[]): Promise<ArrayBuffer> {
    const total = outs.reduce((t, o) => t + o.bytes, 0), max = this.device.limits.maxBufferSize;
    const data = new Uint8Array(total);
    const reads: Promise<unknown>[] = [];
    for (let a = 0, at = 0; a < outs.length;) {
      let b = a, bytes = 0;
      while (b < outs.length && (b === a || bytes + outs[b]!.bytes <= max)) bytes += outs[b++]!.bytes;
      const staging = this.stagingPool.take('taesd video readback', bytes);
      const parts = outs.slice(a, b).map((o) => ({ src: o.buffer, offset: 0, bytes: o.bytes }));
      reads.push(this.submitter.readback(this.device.createCommandEncoder({ label: 'taesd video readback' }), staging, parts, data.subarray(at, at + bytes)).finally(() => this.stagingPool.give(staging)));
      at += bytes;
      a = b;
    }
    return Promise.all(reads).then(() => data.buffer);
  }

  /** Frees the weights; the device stays the caller's. */
  release(): Promise<void> {
    const done = this.tail.then(() => Promise.all(this.reading)).then(() => { this.owned.splice(0).forEach((b) => b.destroy()); this.pool.clear(); this.stagingPool.clear(); });
    this.tail = done.catch(() => undefined);
    return done;
  }

  private alive(): void {
    const lost = this.submitter.lostReason;
    if (lost !== null) fail('DEVICE_LOST', `the WebGPU device was lost (${lost}); create a new video decoder (a new stream starts from fresh state)`);
  }
}

export interface WebGpuVideoOptions {
  /** A device of the caller's (kept when the decoder is destroyed); default: one of the adapter's, owned. */
  readonly device?: GPUDevice;
  /** Storage precision: `'auto'` (default) f16 where the device has shader-f16; math accumulates in f32. */
  readonly precision?: Precision | 'auto';
  /** Conv kernels: `'auto'` (default) the fastest measured per layer shape on a hardware adapter, direct on a CPU-emulated one; `'tiled'` the first tiled kernel that fits. */
  readonly convKernel?: 'auto' | 'direct' | 'tiled';
  /** Where kernel measurements are remembered (`localStorage` fits); default: this page or process. */
  readonly store?: TuningStore;
}

/** A WebGPU runner, or null for `auto` on a CPU-emulated adapter (lavapipe, SwiftShader), where onnxruntime is faster. */
export async function webGpuVideoRunner(options: WebGpuVideoOptions, auto: boolean): Promise<{ runner: WebGpuVideoRunner; owned: boolean } | null> {
  const owned = !options.device;
  const device = options.device ?? (await requestGpuDevice({ f16: options.precision !== 'f32' })).device;
  const info = deviceAdapterInfo(device), emulated = !!info && isFallbackAdapter(info);
  if (auto && emulated) {
    if (owned) device.destroy();
    return null;
  }
  const f16 = device.features.has('shader-f16');
  if (options.precision === 'f16' && !f16) fail('BACKEND_UNAVAILABLE', "precision 'f16' needs a WebGPU device with shader-f16, which this one lacks: use 'f32' or 'auto'");
  const precision: Precision = options.precision === 'f32' || !f16 ? 'f32' : 'f16';
  const conv = options.convKernel === 'direct' || options.convKernel === 'tiled' ? options.convKernel : emulated ? 'direct' : 'tune';
  return { runner: new WebGpuVideoRunner(device, precision, conv, options.store), owned };
}
