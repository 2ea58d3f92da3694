// One run of a TAEHV stage (model/videoGraph.ts) on WebGPU, encoded from the op list: convs through
// the conv kernel seam (conv.ts), reading through a nearest upsample before them and storing
// TGrow's split; depthwise and the index maps (prevFrame + concat, pixel shuffle, ReLU, add, clamp)
// as small kernels over the shared layout. A stage's frames are its batch items; buffers are
// pooled by size within the run as values die.
import { fail } from '../errors.js';
import type { Value } from '../model/graph.js';
import type { VideoOp, VideoStage } from '../model/videoGraph.js';
import type { DepthwiseWeights } from '../model/videoWeights.js';
import type { ConvWeights } from '../model/weights.js';
import { act4Bytes, act4Type, convDimsData, convDispatch, convPipeline, type ConvDims, type ConvShape, type ConvVariant, type Precision } from './conv.js';
import { compiledPipeline, kernelPipeline, pipelineDispatch, type Dispatch, type KernelName, type KernelParams } from './kernels.js';
import { blocks } from './program.js';
import { VIDEO_DIMS } from './uniforms.js';

/** Invocations per workgroup of the video kernels (x only). */
const WG = 64;

const MODES = { relu: 0, add: 1, clamp: 2, upsample: 3, toFrames: 4, pixelShuffle: 5, concat: 6 } as const;

export interface VideoGpu {
  readonly device: GPUDevice;
  readonly precision: Precision;
  /** Chooses the conv kernel for `shape` at a layer's output size (the tuner's measurement, where it runs). */
  chooseVariant(shape: ConvShape, outW: number, outRows: number): Promise<void>;
  /** The conv kernel (conv.ts's seam) that runs `shape`: the chosen one, or the default. */
  variant(shape: ConvShape): ConvVariant;
  /** A storage buffer (STORAGE, COPY_SRC, COPY_DST) of at least `bytes`, contents undefined. */
  buffer(label: string, bytes: number): GPUBuffer;
  /** The packed weights of a conv or depthwise conv, uploaded once. */
  weights(of: ConvWeights | DepthwiseWeights, pack: () => Float32Array): GPUBuffer;
}

/** A stage run's sizes: `n` input frames at `h` x `w` (the stage input's level). */
export interface RunSize { readonly n: number; readonly h: number; readonly w: number }

/** Frames, height and width of value `v` in a run. */
export function valueSize(stage: VideoStage, v: Value, s: RunSize): { frames: number; h: number; w: number } {
  const up = 2 ** (v.level - stage.input.level);
  return { frames: (s.n * (v.frames ?? 1)) / (stage.input.frames ?? 1), h: s.h * up, w: s.w * up };
}

/** Zero vec4s at each activation buffer's start: as many as the widest 3x3 conv input has blocks. */
export function stageZeroVec4s(stage: VideoStage): number {
  return Math.max(1, ...stage.ops.map((op) => (op.kind === 'conv' && op.conv.k > 1 ? blocks(op.conv.cin) : 1)));
}

/** Bytes of value `v` for one input frame of a stage (without the zero region). */
export function valueFrameBytes(stage: VideoStage, v: Value, precision: Precision, h: number, w: number): number {
  const { frames, h: vh, w: vw } = valueSize(stage, v, { n: 1, h, w });
  return frames * vh * vw * blocks(v.channels) * act4Bytes(precision);
}

const convShape = (c: ConvWeights, precision: Precision, zeroVec4s: number, fused: ConvFusion): ConvShape => ({
  k: c.k, cinBlocks: blocks(c.cin), coutBlocks: blocks(c.cout), upsample: fused.upsample, relu: fused.relu, residual: fused.residual !== null, normGroups: 0, precision, outputF32: false, zeroVec4s,
  prevConcat: fused.prevState !== null,
});

/**
 * What a conv takes in as it reads and stores (as the image program does): a nearest upsample
 * before it (read through: `src` is the upsample's input), or a MemBlock's concat of x with its
 * previous frame (read from x and carried state `prevState`: two bindings, no copy); the add
 * after it and the ReLU after that; or TGrow's split into frames (`grow` > 1): one conv per
 * sub-frame writing frame t * grow + k through its output rows, so the split is an index map and
 * never a pass.
 */
interface ConvFusion { readonly src: Value; readonly upsample: boolean; readonly prevState: number | null; readonly relu: boolean; readonly residual: Value | null; readonly out: Value; readonly grow: number }

const sliced = new WeakMap<ConvWeights, ConvWeights[]>();
/** TGrow's conv as `stride` convs, sub-frame k's from weight rows [k * C, (k + 1) * C), each made once. */
function growSlices(c: ConvWeights, stride: number): ConvWeights[] {
  let s = sliced.get(c);
  if (!s) {
    const n = c.cout / stride, rows = n * c.cin * c.k * c.k;
    s = Array.from({ length: stride }, (_, k) => ({ ...c, key: `${c.key}[${k}]`, cout: n, weight: c.weight.subarray(k * rows, (k + 1) * rows), bias: c.bias?.subarray(k * n, (k + 1) * n) ?? null }));
    sliced.set(c, s);
  }
  return s;
}

/** The convs one op-list conv runs as (TGrow's: one per sub-frame). */
const convsOf = (c: ConvWeights, fused: ConvFusion): ConvWeights[] => (fused.grow > 1 ? growSlices(c, fused.grow) : [c]);

/** A stage's fusions: the fused epilogue of each conv, what each depthwise conv reading its concat from two bindings (as convs do) reads (by op index), the output's pixel shuffle, and the ops they absorb. */
interface StageFusion {
  readonly convs: Map<number, ConvFusion>;
  readonly depthwisePrev: Map<number, { src: Value; state: number }>;
  /** The pixel shuffle that makes the stage's output, written through by the planar output kernel. */
  readonly outShuffle: { x: Value; factor: number } | null;
  readonly absorbed: Set<number>;
}

const fusions = new WeakMap<VideoStage, StageFusion>();

/** The stage's fusions, worked out once per stage (every run of it reads them). */
function fuseStage(stage: VideoStage): StageFusion {
  let f = fusions.get(stage);
  if (!f) fusions.set(stage, (f = findFusions(stage)));
  return f;
}

function findFusions(stage: VideoStage): StageFusion {
  const made = new Map<number, number>(), users = new Map<number, number[]>();
  stage.ops.forEach((op, i) => {
    made.set(op.out.id, i);
    for (const k of ['x', 'y'] as const) if (k in op) { const id = (op as Record<typeof k, Value>)[k].id; users.set(id, [...(users.get(id) ?? []), i]); }
  });
  const only = (v: Value) => { const u = users.get(v.id); return u?.length === 1 && v.id !== stage.output.id ? u[0]! : -1; };
  const convs = new Map<number, ConvFusion>(), depthwisePrev = new Map<number, { src: Value; state: number }>(), absorbed = new Set<number>();
  /** The concat's x and the state index when op `i` is the only reader of a concat of x with its previous frame (the concat is then absorbed). */
  const prevConcat = (x: Value, i: number): { src: Value; state: number } | null => {
    const before = stage.ops[made.get(x.id) ?? -1];
    const past = before?.kind === 'concat' ? stage.ops[made.get(before.y.id) ?? -1] : undefined;
    // Channels in whole blocks, so the concat's blocks are x's then the past frame's.
    if (before?.kind !== 'concat' || past?.kind !== 'prevFrame' || past.x.id !== before.x.id || before.x.channels % 4 !== 0 || only(x) !== i) return null;
    absorbed.add(made.get(x.id)!);
    return { src: before.x, state: stage.states.indexOf(past.state) };
  };
  stage.ops.forEach((op, i) => {
    if (op.kind === 'depthwise') {
      const read = prevConcat(op.x, i);
      if (read) depthwisePrev.set(i, read);
    }
    if (op.kind !== 'conv') return;
    const before = stage.ops[made.get(op.x.id) ?? -1];
    const upsample = before?.kind === 'upsample' && only(op.x) === i ? before : null;
    if (upsample) absorbed.add(made.get(op.x.id)!);
    const concat = upsample ? null : prevConcat(op.x, i);
    const src = upsample?.x ?? concat?.src ?? op.x, prevState = concat?.state ?? null;
    let out = op.out, residual: Value | null = null, relu = false;
    const next = stage.ops[only(out)];
    if (next?.kind === 'toFrames') {
      absorbed.add(only(out));
      convs.set(i, { src, upsample: !!upsample, prevState, relu, residual, out: next.out, grow: next.stride });
      return;
    }
    if (next?.kind === 'add') {
      // The add's other input must exist before this conv runs.
      const other = next.x.id === out.id ? next.y : next.x;
      if ((made.get(other.id) ?? -1) < i) { residual = other; absorbed.add(only(out)); out = next.out; }
    }
    const after = stage.ops[only(out)];
    if (after?.kind === 'relu') { relu = true; absorbed.add(only(out)); out = after.out; }
    convs.set(i, { src, upsample: !!upsample, prevState, relu, residual, out, grow: 1 });
  });
  const last = stage.ops.length - 1, lastOp = stage.ops[last];
  const outShuffle = lastOp?.kind === 'pixelShuffle' && lastOp.out.id === stage.output.id && only(lastOp.x) === last ? { x: lastOp.x, factor: lastOp.factor } : null;
  if (outShuffle) absorbed.add(last);
  return { convs, depthwisePrev, outShuffle, absorbed };
}

function depthwisePack(d: DepthwiseWeights): Float32Array {
  const taps = d.k * d.k, data = new Float32Array(blocks(d.channels) * taps * 4);
  for (let c = 0; c < d.channels; c++) for (let t = 0; t < taps; t++) data[((c >> 2) * taps + t) * 4 + (c & 3)] = d.weight[c * taps + t]!;
  return data;
}

/** The kernel between planar f32 frames of `channels` and the layout, and its workgroup width. */
export function planarKernel(channels: number, toLayout: boolean, precision: Precision, zeroVec4s: number, shuffle = 1): { name: KernelName; params: KernelParams; wg: number } {
  return { name: 'videoPlanar', params: { WG, ZERO_VEC4S: zeroVec4s, act4: act4Type(precision), CB: blocks(channels), CHANNELS: channels, TO_LAYOUT: toLayout, SHUFFLE: shuffle }, wg: WG };
}

/** The stage's output as its planar kernel writes it: through the pixel shuffle that makes it, where fused (`factor` > 1). */
function planarOut(stage: VideoStage, fusion: StageFusion): { x: Value; factor: number } {
  return fusion.outShuffle ?? { x: stage.output, factor: 1 };
}

/** The kernel and parameters of a non-conv op (the map modes, depthwise: `prevConcat` when it reads its concat from two bindings), or of the planar in/out. */
function kernelOf(op: VideoOp | { kind: 'planar'; x: Value; toLayout: boolean; shuffle?: number }, precision: Precision, zeroVec4s: number, prevConcat = false): { name: KernelName; params: KernelParams } {
  const base = { WG, ZERO_VEC4S: zeroVec4s, act4: act4Type(precision) };
  if (op.kind === 'planar') return planarKernel(op.x.channels, op.toLayout, precision, zeroVec4s, op.shuffle);
  if (op.kind === 'depthwise') return { name: 'videoDepthwise', params: { ...base, CB: blocks(op.out.channels), K: op.weights.k, PREV_CONCAT: prevConcat } };
  if (op.kind === 'conv' || op.kind === 'prevFrame' || op.kind === 'groupNorm') fail('INTERNAL', `video kernels: no map kernel for ${op.kind}`);
  const stride = op.kind === 'toFrames' ? op.stride : op.kind === 'pixelShuffle' ? op.factor : 1;
  return { name: 'videoMap', params: { ...base, MODE: MODES[op.kind], CB: blocks(op.out.channels), XCB: blocks(op.x.channels), YCB: op.kind === 'concat' ? blocks(op.y.channels) : 1, STRIDE: stride, CHANNELS: op.out.channels, PREV: false } };
}

/** Chooses the conv kernels and compiles every pipeline a stage needs at an `h` x `w` input (once per device); the run is then built synchronously. */
export async function compileStage(gpu: VideoGpu, stage: VideoStage, h: number, w: number): Promise<void> {
  const z = stageZeroVec4s(stage), { device, precision } = gpu;
  const fusion = fuseStage(stage), { convs, depthwisePrev, absorbed } = fusion, out = planarOut(stage, fusion);
  const waits: Promise<unknown>[] = [
    { kind: 'planar', x: stage.input, toLayout: true } as const,
    { kind: 'planar', x: out.x, toLayout: false, shuffle: out.factor } as const,
  ].map((op) => { const k = kernelOf(op, precision, z); return kernelPipeline(device, k.name, k.params); });
  for (const [i, op] of stage.ops.entries()) {
    if (op.kind === 'conv') {
      const shape = convShape(convsOf(op.conv, convs.get(i)!)[0]!, precision, z, convs.get(i)!), out = valueSize(stage, op.out, { n: 1, h, w });
      await gpu.chooseVariant(shape, out.w, out.h);
      const v = gpu.variant(shape);
      waits.push(convPipeline(device, v, v.params(shape)));
    } else if (op.kind !== 'prevFrame' && !absorbed.has(i)) {
      for (const prev of [false, true]) {
        const k = kernelOf(op, precision, z, depthwisePrev.has(i));
        waits.push(kernelPipeline(device, k.name, op.kind === 'concat' ? { ...k.params, PREV: prev } : k.params));
      }
    }
  }
  await Promise.all(waits);
}

export interface EncodedRun {
  /** Planar f32 output `[m, C, H, W]`. */
  readonly output: GPUBuffer;
  readonly outputDims: readonly [number, number, number, number];
  /** The stage's carried frames after the run, in `stage.states` order. */
  readonly states: GPUBuffer[];
  /** Everything else this run made: destroy once its work is done. */
  readonly temps: GPUBuffer[];
}

/** Encodes one run of `stage` on `input` (planar f32 in a storage buffer), reading `states` and making new ones. */
export function encodeStageRun(gpu: VideoGpu, encoder: GPUCommandEncoder, stage: VideoStage, input: GPUBuffer, size: RunSize, states: readonly GPUBuffer[]): EncodedRun {
  const { device, precision } = gpu;
  const z = stageZeroVec4s(stage), bytes4 = act4Bytes(precision);
  const temps: GPUBuffer[] = [];
  const make = (label: string, bytes: number) => { const b = gpu.buffer(label, bytes); temps.push(b); return b; };
  const free = new Map<number, GPUBuffer[]>();
  const held = new Map<number, GPUBuffer>();
  const bytesOf = (v: Value) => { const s = valueSize(stage, v, size); return (z + s.frames * s.h * s.w * blocks(v.channels)) * bytes4; };
  const zeros = new Uint8Array(z * bytes4);
  const alloc = (v: Value) => {
    const n = bytesOf(v);
    let b = free.get(n)?.pop();
    if (!b) {
      b = make(`taesd video value ${v.id}`, n);
      // A pooled buffer holds what it last held: its zero region (the padding taps read) is zeroed, before this run's commands.
      device.queue.writeBuffer(b, 0, zeros);
    }
    held.set(v.id, b);
    return b;
  };
  const get = (v: Value) => held.get(v.id) ?? fail('INTERNAL', `video run: value ${v.id} is read before it is made`);
  const fusion = fuseStage(stage), { convs, depthwisePrev, absorbed } = fusion, out = planarOut(stage, fusion);
  // What each op reads: a conv its fused source; an absorbed upsample, concat or pixel shuffle nothing (a conv or the output reads through it).
  const reads = (op: VideoOp, i: number): Value[] => {
    if (op.kind === 'conv') return [convs.get(i)!.src];
    if ((op.kind === 'upsample' || op.kind === 'concat' || op.kind === 'pixelShuffle') && absorbed.has(i)) return [];
    return [(op.kind === 'depthwise' && depthwisePrev.get(i)?.src) || op.x, ...('y' in op ? [op.y] : [])];
  };
  const lastUse = new Map<number, number>();
  stage.ops.forEach((op, i) => reads(op, i).forEach((v) => lastUse.set(v.id, i)));
  // Every dispatch's dims in one uniform buffer, a slot each, written once the run is encoded.
  const slot = device.limits.minUniformBufferOffsetAlignment;
  const slots = 2 + stage.ops.reduce((n, op, i) => n + (op.kind === 'conv' ? convsOf(op.conv, convs.get(i)!).length : 1), 0);
  const dimsData = new Uint8Array(slots * slot);
  const dimsBuffer = device.createBuffer({ label: 'taesd video dims', size: dimsData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  temps.push(dimsBuffer);
  let slotsUsed = 0;
  const uniform = (data: ArrayBuffer): GPUBufferBinding => {
    const offset = slotsUsed++ * slot;
    dimsData.set(new Uint8Array(data), offset);
    return { buffer: dimsBuffer, offset, size: data.byteLength };
  };
  const dimsOf = (out: Value, x: Value) => {
    const o = valueSize(stage, out, size), i = valueSize(stage, x, size);
    return { o, binding: uniform(VIDEO_DIMS.write({ out_w: o.w, out_h: o.h, in_w: i.w, in_h: i.h })) };
  };
  const unused = make('taesd video unused', 16);
  let pass = encoder.beginComputePass({ label: 'taesd video' });
  const run = (d: Dispatch) => { pass.setPipeline(d.pipeline); pass.setBindGroup(0, d.bindGroup); pass.dispatchWorkgroups(...d.workgroups); };
  const mapDispatch = (k: { name: KernelName; params: KernelParams }, out: Value, x: Value, bindings: GPUBuffer[]) => {
    const { o, binding } = dimsOf(out, x);
    const grid: [number, number, number] = [Math.ceil((o.w * blocks(out.channels)) / WG), o.h, o.frames];
    run(pipelineDispatch(device, compiledPipeline(device, k.name, k.params), [binding, ...bindings.map((b) => ({ buffer: b }))], grid));
  };
  const planar = (x: Value, toLayout: boolean, planarBuffer: GPUBuffer, act: GPUBuffer, shuffle = 1) => mapDispatch(kernelOf({ kind: 'planar', x, toLayout, shuffle }, precision, z), x, x, [planarBuffer, act]);

  planar(stage.input, true, input, alloc(stage.input));
  const past = new Map<number, { x: Value; state: number }>();
  const newStates: GPUBuffer[] = [];
  stage.ops.forEach((op, i) => {
    if (absorbed.has(i)) {
      // Run by the conv before it; only its inputs' lifetimes are kept here.
    } else if (op.kind === 'prevFrame') {
      // The carried frame for the next run: x's last frame, copied out of the zero-led layout.
      const s = valueSize(stage, op.x, size), frame = s.h * s.w * blocks(op.x.channels) * bytes4;
      const next = gpu.buffer(`taesd video state ${op.state}`, frame);
      pass.end();
      encoder.copyBufferToBuffer(get(op.x), (z * bytes4) + (s.frames - 1) * frame, next, 0, frame);
      pass = encoder.beginComputePass({ label: 'taesd video' });
      newStates[stage.states.indexOf(op.state)] = next;
      past.set(op.out.id, { x: op.x, state: stage.states.indexOf(op.state) });
      return;
    } else if (op.kind === 'conv') {
      const fused = convs.get(i)!, o = valueSize(stage, op.out, size), up = fused.upsample ? 2 : 1;
      const src = get(fused.src), skip = fused.residual ? get(fused.residual) : undefined, dst = alloc(fused.out);
      convsOf(op.conv, fused).forEach((c, k) => {
        const shape = convShape(c, precision, z, fused), v = gpu.variant(shape), params = v.params(shape);
        // Item t's rows land at frame t * grow + k of the output.
        const dimsAt = (w: number, h: number): ConvDims => ({ inW: w / up, inRow0: 0, outW: w, outH: h, outRow0: 0, outRows: h, dstRow0: -k * h, skipRow0: 0, inRows: h / up, dstRows: fused.grow * h, skipRows: h, batch: o.frames });
        // A 1x1 conv reads no neighbours: a frame runs as one row of h*w pixels (no tile wasted on a short row's end).
        const flat = dimsAt(o.w * o.h, 1);
        const dims = c.k === 1 && !fused.upsample && v.workgroups(params, flat)[0] <= device.limits.maxComputeWorkgroupsPerDimension ? flat : dimsAt(o.w, o.h);
        const prev = fused.prevState === null ? undefined : states[fused.prevState]!;
        run(convDispatch(device, `taesd video ${c.key}`, v, params, dims, { dims: uniform(convDimsData(dims)), src, weights: gpu.weights(c, () => v.pack(c, null)), skip, dst, prev }));
      });
    } else if (op.kind === 'depthwise') {
      const read = depthwisePrev.get(i);
      const src = get(read?.src ?? op.x), dst = alloc(op.out), prev = read ? states[read.state]! : unused;
      mapDispatch(kernelOf(op, precision, z, !!read), op.out, op.x, [src, gpu.weights(op.weights, () => depthwisePack(op.weights)), dst, prev]);
    } else if (op.kind === 'concat') {
      const prev = past.get(op.y.id);
      const k = kernelOf(op, precision, z);
      const src = get(op.x), dst = alloc(op.out);
      const y = prev ? unused : get(op.y), state = prev ? states[prev.state]! : unused;
      if (prev && prev.x.id !== op.x.id) fail('INTERNAL', 'video run: a concat of a previous frame must pair it with its own input');
      mapDispatch({ name: k.name, params: { ...k.params, PREV: !!prev } }, op.out, op.x, [src, y, state, dst]);
    } else if (op.kind === 'groupNorm') {
      fail('INTERNAL', 'video run: TAEHV has no GroupNorm');
    } else {
      const src = get(op.x), y = op.kind === 'add' ? get(op.y) : unused;
      mapDispatch(kernelOf(op, precision, z), op.out, op.x, [src, y, unused, alloc(op.out)]);
    }
    // Values read for the last time go back to the pool (dispatches in a pass are ordered).
    for (const v of reads(op, i)) {
      const b = held.get(v.id);
      if (b && lastUse.get(v.id) === i && v.id !== stage.output.id) { held.delete(v.id); const n = bytesOf(v); free.set(n, [...(free.get(n) ?? []), b]); }
    }
  });
  const o = valueSize(stage, stage.output, size);
  const output = make('taesd video output', o.frames * stage.output.channels * o.h * o.w * 4);
  planar(out.x, false, output, get(out.x), out.factor);
  pass.end();
  device.queue.writeBuffer(dimsBuffer, 0, dimsData, 0, slotsUsed * slot);
  return { output, outputDims: [o.frames, stage.output.channels, o.h, o.w], states: newStates, temps };
}
