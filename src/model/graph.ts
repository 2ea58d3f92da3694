// The decoder lowered to primitive ops with explicit shapes: the one description that the WGSL
// program (gpu/program.ts), the ONNX graph (fallback/onnxGraph.ts), the CPU reference (tests),
// the FLOP count and the band schedules all read.
// Video (README, "The video path"): values carry frames per latent frame; a new op kind (frame
// shift, concat, TGrow's split into frames, pixel shuffle, grouped conv) is a local addition at
// three seams: its rows read here (rowsRead), its ONNX nodes (fallback/onnxGraph.ts) and its GPU
// step (gpu/program.ts). Streaming state belongs to a session object, never to the op list.
import { fail } from '../errors.js';
import { isScale } from './latent.js';
import type { ConvWeights, DecoderWeights, PoolWeights } from './weights.js';

/** A feature map of `channels` at `2^level` times the latent's size. */
export interface Value {
  readonly id: number;
  readonly channels: number;
  readonly level: number;
  /** Frames per latent frame in a video graph (model/videoGraph.ts); absent in an image graph: 1. */
  readonly frames?: number;
}

export type Op =
  /** `out = tanh(x / 3) * 3`, TAESD's input clamp. */
  | { readonly kind: 'clamp'; readonly x: Value; readonly out: Value }
  /** Zero-padded convolution, stride 1. */
  | { readonly kind: 'conv'; readonly x: Value; readonly out: Value; readonly conv: ConvWeights }
  | { readonly kind: 'relu'; readonly x: Value; readonly out: Value }
  | { readonly kind: 'add'; readonly x: Value; readonly y: Value; readonly out: Value }
  /** Nearest-neighbour x2. */
  | { readonly kind: 'upsample'; readonly x: Value; readonly out: Value }
  /** GroupNorm with statistics over the whole map (so over the whole image: never banded). */
  | { readonly kind: 'groupNorm'; readonly x: Value; readonly out: Value; readonly groups: number; readonly eps: number; readonly gamma: Float32Array; readonly beta: Float32Array };

export interface LowerOptions {
  /**
   * Replace the last `skipUpsamples` nearest upsamples by the identity (SD.Next's `taesd_layers`):
   * the image comes out 2^k times smaller for a fraction of the work. 0 (default) up to the
   * decoder's upsample count.
   */
  readonly skipUpsamples?: number;
}

export interface DecoderGraph {
  readonly weights: DecoderWeights;
  /** The latent in TAESD space, `[C, h, w]`. */
  readonly input: Value;
  /** The raw RGB output, `[3, h * upscale, w * upscale]`. */
  readonly output: Value;
  readonly ops: readonly Op[];
  /** Output pixels per latent pixel along each axis. */
  readonly upscale: number;
}

/** Nearest upsamples in a decoder: the most `skipUpsamples` can take. */
export function upsampleCount(weights: DecoderWeights): number {
  return weights.layers.filter((l) => l.kind === 'upsample').length;
}

/** The `skipUpsamples` that gives an output `scale` times the full size (1, 1/2, 1/4, ...); BAD_OPTION otherwise. */
export function skipForScale(weights: DecoderWeights, scale = 1): number {
  const total = upsampleCount(weights);
  const skip = Math.log2(1 / scale);
  if (!isScale(scale) || skip > total) {
    const allowed = Array.from({ length: total + 1 }, (_, k) => (k ? `1/${2 ** k}` : '1')).join(', ');
    fail('BAD_OPTION', `scale must be one of ${allowed} for ${weights.model.id}, got ${String(scale)}`);
  }
  return skip;
}

/** Lowers a validated decoder to its op list. */
export function lowerDecoder(weights: DecoderWeights, options: LowerOptions = {}): DecoderGraph {
  const total = upsampleCount(weights);
  const skip = options.skipUpsamples ?? 0;
  if (!Number.isInteger(skip) || skip < 0 || skip > total) fail('BAD_OPTION', `skipUpsamples must be an integer 0..${total} for ${weights.model.id}, got ${String(skip)}`);
  const ops: Op[] = [];
  let next = 0;
  const value = (channels: number, level: number): Value => ({ id: next++, channels, level });
  const unary = (kind: 'clamp' | 'relu', x: Value) => { const out = value(x.channels, x.level); ops.push({ kind, x, out }); return out; };
  const conv = (x: Value, c: ConvWeights) => {
    if (c.cin !== x.channels) fail('INTERNAL', `conv ${c.key} takes ${c.cin} channels but its input has ${x.channels}`);
    const out = value(c.cout, x.level);
    ops.push({ kind: 'conv', x, out, conv: c });
    return out;
  };
  const add = (x: Value, y: Value) => { const out = value(x.channels, x.level); ops.push({ kind: 'add', x, y, out }); return out; };
  const pool = (x: Value, p: PoolWeights) => {
    const expanded = conv(x, p.expand);
    const normed = value(expanded.channels, x.level);
    ops.push({ kind: 'groupNorm', x: expanded, out: normed, groups: p.spec.groups, eps: p.spec.eps, gamma: p.gamma, beta: p.beta });
    return conv(unary('relu', normed), p.reduce);
  };

  const input = value(weights.model.latent.channels, 0);
  let x = input;
  let upsamples = 0;
  for (const layer of weights.layers) {
    switch (layer.kind) {
      case 'clamp': case 'relu': x = unary(layer.kind, x); break;
      case 'conv': x = conv(x, layer.conv); break;
      case 'upsample':
        if (upsamples++ < total - skip) {
          const out = value(x.channels, x.level + 1);
          ops.push({ kind: 'upsample', x, out });
          x = out;
        }
        break;
      case 'block': {
        if (layer.pool) x = add(x, pool(x, layer.pool));
        const [c0, c2, c4] = layer.convs;
        x = unary('relu', add(conv(unary('relu', conv(unary('relu', conv(x, c0)), c2)), c4), x));
        break;
      }
    }
  }
  return { weights, input, output: x, ops, upscale: 2 ** x.level };
}

/** Multiply-adds x 2 of one decode of an h x w latent (for GFLOP/s reports). */
export function graphFlops(graph: DecoderGraph, h: number, w: number): number {
  let flops = 0;
  for (const op of graph.ops) {
    if (op.kind !== 'conv') continue;
    const { cin, cout, k } = op.conv;
    flops += 2 * k * k * cin * cout * (h << op.out.level) * (w << op.out.level);
  }
  return flops;
}

/**
 * A run of ops at one resolution: stage 0 holds the latent-resolution ops (the GroupNorm's global
 * statistics live there, so it always runs whole); each later stage starts with an upsample.
 */
export interface Stage {
  readonly level: number;
  readonly input: Value;
  readonly output: Value;
  readonly ops: readonly Op[];
  /** Rows at this level that go wrong at each edge of a slice (zero padding where the image goes on): one per k x k conv's k >> 1. */
  readonly halo: number;
}

/** An op list cut before each op `cuts` picks (never before the first): each run with the value it starts from and ends at. */
export function cutOps<O extends { readonly x: Value }>(ops: readonly O[], input: Value, output: Value, cuts: (op: O) => boolean): { input: Value; output: Value; ops: O[] }[] {
  const runs: { input: Value; output: Value; ops: O[] }[] = [];
  let run: O[] = [];
  let from = input;
  for (const op of ops) {
    if (cuts(op) && run.length) {
      runs.push({ input: from, output: op.x, ops: run });
      run = [];
      from = op.x;
    }
    run.push(op);
  }
  runs.push({ input: from, output, ops: run });
  return runs;
}

/** The graph cut at its upsamples, in order; stage outputs feed the next stage's upsample. */
export function graphStages(graph: DecoderGraph): Stage[] {
  return cutOps(graph.ops, graph.input, graph.output, (op) => op.kind === 'upsample').map((run) => ({
    ...run,
    level: run.output.level,
    halo: run.ops.reduce((n, op) => n + (op.kind === 'conv' ? op.conv.k >> 1 : 0), 0),
  }));
}

/** Half-open row range [lo, hi) in absolute rows at a value's level (0 = the image's top). */
export interface RowRange {
  readonly lo: number;
  readonly hi: number;
}

/** The values an op reads. */
export const opInputs = (op: Op): readonly Value[] => (op.kind === 'add' ? [op.x, op.y] : [op.x]);

/**
 * Rows of each input that `op` reads to produce output rows `out` of its output, before clipping
 * at the input's height (outside the image zero padding is right): a k x k conv reaches k >> 1 rows
 * past each edge, a nearest upsample reads the rows under its output, pointwise ops the same rows,
 * and GroupNorm's statistics every row. A new op kind says here what it reads; banding follows.
 */
export function rowsRead(op: Op, out: RowRange, inputHeight: number): RowRange {
  switch (op.kind) {
    case 'conv': {
      const k = op.conv.k >> 1;
      return { lo: out.lo - k, hi: out.hi + k };
    }
    case 'upsample': return { lo: out.lo >> 1, hi: ((out.hi - 1) >> 1) + 1 };
    case 'groupNorm': return { lo: 0, hi: inputHeight };
    case 'clamp': case 'relu': case 'add': return out;
  }
}
