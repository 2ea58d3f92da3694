// The TAEHV stages on WebGPU for a VideoSession: each stage run uploads its frames, runs the op list
// (videoSteps.ts) and reads the frames back; the carried MemBlock frames stay GPU buffers, owned by
// the session (zeros before a video's first frame). Runs are cut to WebGPU's limits.
import { fail } from '../errors.js';
import type { VideoGraph, VideoStage } from '../model/videoGraph.js';
import type { VideoStageRunner } from '../model/videoSession.js';
import type { DepthwiseWeights } from '../model/videoWeights.js';
import type { ConvWeights } from '../model/weights.js';
import { act4Bytes, CONV_VARIANTS, DEFAULT_CONV, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import { deviceAdapterInfo, isFallbackAdapter, requestGpuDevice } from './device.js';
import { blocks } from './program.js';
import { GpuSubmitter } from './submit.js';
import { compileStage, encodeStageRun, stageZeroVec4s, valueFrameBytes, valueSize, type VideoGpu } from './videoSteps.js';

type StageResult = { data: Float32Array; dims: readonly number[]; states: GPUBuffer[] };

export class WebGpuVideoRunner implements VideoStageRunner<GPUBuffer>, VideoGpu {
  private readonly submitter: GpuSubmitter;
  private readonly packed = new WeakMap<ConvWeights | DepthwiseWeights, GPUBuffer>();
  private readonly owned: GPUBuffer[] = [];
  private tail: Promise<unknown> = Promise.resolve();

  /** `conv`: 'direct' (what CPU-emulated adapters run best) or 'tiled' (workgroup-tiled, for hardware GPUs; direct where no tiled variant fits a shape). */
  constructor(readonly device: GPUDevice, readonly precision: Precision, private readonly conv: 'direct' | 'tiled' = 'direct') {
    this.submitter = new GpuSubmitter(device);
  }

  variant(shape: ConvShape): ConvVariant {
    // f32 math only: the f16-math tiled variants are the tuner's call, not a default.
    return (this.conv === 'tiled' && CONV_VARIANTS.find((v) => v.kernel === 'convTiled' && !v.id.endsWith('-f16') && v.refuses(shape) === null)) || DEFAULT_CONV;
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

  /** Input frames one run may take at an h x w stage input: every buffer within maxStorageBufferBindingSize, every dispatch within maxComputeWorkgroupsPerDimension. */
  framesPerRun(stage: VideoStage, h: number, w: number): number {
    const { maxStorageBufferBindingSize: bind, maxComputeWorkgroupsPerDimension: groups, maxBufferSize } = this.device.limits;
    const z = stageZeroVec4s(stage) * act4Bytes(this.precision);
    const values = [stage.input, ...stage.ops.map((op) => op.out)];
    // Planar f32 in and out, and each value in the layout.
    const per = Math.max(...values.map((v) => valueFrameBytes(stage, v, this.precision, h, w)), ...[stage.input, stage.output].map((v) => valueFrameBytes(stage, v, 'f32', h, w)));
    const mostFrames = Math.max(...values.map((v) => valueSize(stage, v, { n: 1, h, w }).frames * blocks(v.channels)));
    // The readback buffer holds the whole output (a copy target, bounded by maxBufferSize).
    const readback = valueFrameBytes(stage, stage.output, 'f32', h, w);
    const n = Math.min(Math.floor((bind - z) / per), Math.floor(groups / mostFrames), Math.floor(maxBufferSize / readback));
    if (n < 1) fail('BAD_OPTION', `one ${h}x${w} frame of a video stage needs ${(per / 2 ** 20).toFixed(0)} MiB in one WebGPU buffer, over this device's ${(bind / 2 ** 20).toFixed(0)} MiB binding limit; decode at a smaller scale`);
    return n;
  }

  runStage(_graph: VideoGraph, _key: string, _index: number, stage: VideoStage, input: Float32Array, dims: readonly number[], states: readonly GPUBuffer[]): Promise<StageResult> {
    const run = this.tail.then(async () => {
      this.alive();
      const [n, c, h, w] = dims as [number, number, number, number];
      const most = this.framesPerRun(stage, h, w);
      await compileStage(this, stage);
      let carried = [...states];
      const parts: StageResult[] = [];
      for (let a = 0; a < n; a += most) {
        const m = Math.min(n, a + most) - a;
        const part = await this.runOnce(stage, input.subarray(a * c * h * w, (a + m) * c * h * w), { n: m, h, w }, carried);
        // The frames carried in were this session's until now; the run made their successors.
        if (carried !== states) carried.forEach((b) => b.destroy());
        carried = part.states;
        parts.push(part);
      }
      states.forEach((b) => b.destroy());
      if (parts.length === 1) return parts[0]!;
      const data = new Float32Array(parts.reduce((s, p) => s + p.data.length, 0));
      let at = 0;
      for (const p of parts) { data.set(p.data, at); at += p.data.length; }
      return { data, dims: [parts.reduce((s, p) => s + p.dims[0]!, 0), ...parts[0]!.dims.slice(1)], states: carried };
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async runOnce(stage: VideoStage, input: Float32Array, size: { n: number; h: number; w: number }, states: readonly GPUBuffer[]): Promise<StageResult> {
    const { device } = this;
    const made: GPUBuffer[] = [];
    const encoder = device.createCommandEncoder({ label: 'taesd video' });
    const { run, staging } = await this.submitter.scoped('a video stage', () => {
      const upload = device.createBuffer({ label: 'taesd video input', size: Math.max(16, input.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      made.push(upload);
      device.queue.writeBuffer(upload, 0, input.buffer as ArrayBuffer, input.byteOffset, input.byteLength);
      const r = encodeStageRun(this, encoder, stage, upload, size, states);
      made.push(...r.temps, ...r.states);
      const s = device.createBuffer({ label: 'taesd video readback', size: r.output.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      made.push(s);
      return { run: r, staging: s };
    }, () => made.forEach((b) => b.destroy()));
    try {
      const bytes = await this.submitter.readback(encoder, staging, [{ src: run.output, offset: 0, bytes: run.output.size }]);
      const [m, c, h, w] = run.outputDims;
      return { data: new Float32Array(bytes, 0, m * c * h * w), dims: run.outputDims, states: run.states };
    } catch (e) {
      run.states.forEach((b) => b.destroy());
      throw e;
    } finally {
      run.temps.forEach((b) => b.destroy());
      staging.destroy();
      made[0]!.destroy();
    }
  }

  /** Frees the weights; the device stays the caller's. */
  release(): Promise<void> {
    const done = this.tail.then(() => { this.owned.splice(0).forEach((b) => b.destroy()); });
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
  /** Conv kernels: `'auto'` (default) tiled on a hardware adapter, direct on a CPU-emulated one. */
  readonly convKernel?: 'auto' | 'direct' | 'tiled';
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
  const conv = options.convKernel === 'direct' || options.convKernel === 'tiled' ? options.convKernel : emulated ? 'direct' : 'tiled';
  return { runner: new WebGpuVideoRunner(device, precision, conv), owned };
}
