// The TAEHV decoder lowered into the same op list as the image decoders (graph.ts), with the ops
// video adds: the previous-frame shift of a MemBlock, channel concat, depthwise conv, TGrow's split
// into frames and pixel shuffle. Values carry `frames` (per latent frame). Every backend and the
// CPU reference read this list.
import { fail } from '../errors.js';
import { cutOps, type Op, type Value } from './graph.js';
import type { VideoModelSpec } from './videoRegistry.js';
import type { DepthwiseWeights, VideoLayerWeights, VideoWeights } from './videoWeights.js';
import type { ConvWeights } from './weights.js';

export type VideoOp =
  | Op
  /** `out[t] = x[t - 1]`; `out[0]` is state `state` (the last frame of the previous chunk; zeros before the first). */
  | { readonly kind: 'prevFrame'; readonly x: Value; readonly out: Value; readonly state: number }
  /** Channels of `x`, then of `y`. */
  | { readonly kind: 'concat'; readonly x: Value; readonly y: Value; readonly out: Value }
  /** Zero-padded depthwise conv (groups = channels), no bias. */
  | { readonly kind: 'depthwise'; readonly x: Value; readonly out: Value; readonly weights: DepthwiseWeights }
  /** `[T, stride * C, h, w]` -> `[T * stride, C, h, w]`: frame `t * stride + s` takes channels `[s * C, (s + 1) * C)`. */
  | { readonly kind: 'toFrames'; readonly x: Value; readonly out: Value; readonly stride: number }
  /** PyTorch's pixel_shuffle: `out[c, y * r + i, x * r + j] = in[c * r * r + i * r + j, y, x]`. */
  | { readonly kind: 'pixelShuffle'; readonly x: Value; readonly out: Value; readonly factor: number };

export interface VideoLowerOptions {
  /** Last space upscales replaced by the identity (as `scale` for images). */
  readonly skipUpsamples?: number;
  /** Last time upscales (TGrow x2) replaced by x1, with TGrow's weights sliced as upstream's `patch_tgrow_layers`. */
  readonly skipTimeUpsamples?: number;
}

export interface VideoGraph {
  readonly weights: VideoWeights;
  /** One latent frame `[C, h, w]`. */
  readonly input: Value;
  /** Raw RGB frames `[3, h * upscale, w * upscale]`, `output.frames` per latent frame. */
  readonly output: Value;
  readonly ops: readonly VideoOp[];
  /** The value whose last frame each `prevFrame` carries to the next chunk, by state index. */
  readonly states: readonly Value[];
  readonly upscale: number;
  /** Raw output frames per latent frame. */
  readonly timeUpscale: number;
}

/** Space upsamples and time upsamples the model has (the most each skip can take). */
export function videoUpscaleCounts(model: VideoModelSpec): { space: number; time: number } {
  return { space: model.arch === 'super' ? 0 : 3, time: model.timeUpscale.filter(Boolean).length };
}

const fractions = (n: number) => Array.from({ length: n + 1 }, (_, k) => (k ? `1/${2 ** k}` : '1')).join(', ');

/** Skips for a `scale` (output size) and `timeScale` (output frames) of 1, 1/2, 1/4, ...; BAD_OPTION otherwise. */
export function videoSkips(model: VideoModelSpec, scale = 1, timeScale = 1): Required<VideoLowerOptions> {
  const { space, time } = videoUpscaleCounts(model);
  const skip = (value: number, most: number, what: string) => {
    const k = Math.log2(1 / value);
    if (!Number.isInteger(k) || k < 0 || k > most) {
      const why = most === 0 && what === 'scale' ? ' (the super decoders upscale by pixel shuffles whose weights have no smaller form)' : '';
      fail('BAD_OPTION', `${what} must be one of ${fractions(most)} for ${model.id}, got ${String(value)}${why}`);
    }
    return k;
  };
  return { skipUpsamples: skip(scale, space, 'scale'), skipTimeUpsamples: skip(timeScale, time, 'timeScale') };
}

/** Lowers validated TAEHV weights to the op list. */
export function lowerVideoDecoder(weights: VideoWeights, options: VideoLowerOptions = {}): VideoGraph {
  const { model } = weights;
  const { space, time } = videoUpscaleCounts(model);
  const skipSpace = options.skipUpsamples ?? 0, skipTime = options.skipTimeUpsamples ?? 0;
  if (skipSpace > space || skipTime > time) fail('BAD_OPTION', `${model.id} has ${space} space and ${time} time upscales; cannot skip ${skipSpace} and ${skipTime}`);
  const ops: VideoOp[] = [];
  const states: Value[] = [];
  let next = 0;
  const value = (channels: number, level: number, frames: number): Value => ({ id: next++, channels, level, frames });
  const like = (x: Value, channels = x.channels) => value(channels, x.level, x.frames ?? 1);
  const unary = (kind: 'clamp' | 'relu', x: Value) => { const out = like(x); ops.push({ kind, x, out }); return out; };
  const conv = (x: Value, c: ConvWeights) => {
    if (c.cin !== x.channels) fail('WEIGHTS_SHAPE', `decoder.${c.key} takes ${c.cin} channels but its input has ${x.channels}`);
    const out = like(x, c.cout);
    ops.push({ kind: 'conv', x, out, conv: c });
    return out;
  };
  const add = (x: Value, y: Value) => { const out = like(x); ops.push({ kind: 'add', x, y, out }); return out; };
  const withPast = (x: Value) => {
    const past = like(x);
    ops.push({ kind: 'prevFrame', x, out: past, state: states.length });
    states.push(x);
    const out = like(x, 2 * x.channels);
    ops.push({ kind: 'concat', x, y: past, out });
    return out;
  };
  const shuffle = (x: Value, factor: number) => {
    if (x.channels % (factor * factor)) fail('WEIGHTS_SHAPE', `pixel shuffle by ${factor} needs channels divisible by ${factor * factor}, got ${x.channels}`);
    const out = value(x.channels / (factor * factor), x.level + Math.log2(factor), x.frames ?? 1);
    ops.push({ kind: 'pixelShuffle', x, out, factor });
    return out;
  };
  // Which TGrow (by stage) doubles: the model's, less the last `skipTime` of them.
  const doubling = model.timeUpscale.map((on, s) => on && model.timeUpscale.slice(0, s + 1).filter(Boolean).length <= time - skipTime);

  const input = value(model.latentChannels, 0, 1);
  let x = input;
  for (const layer of upsampleAfterTGrow(weights.layers)) {
    switch (layer.kind) {
      case 'clamp': case 'relu': x = unary(layer.kind, x); break;
      case 'conv': x = conv(x, layer.conv); break;
      case 'upsample':
        if (layer.stage < space - skipSpace) {
          const out = value(x.channels, x.level + 1, x.frames ?? 1);
          ops.push({ kind: 'upsample', x, out });
          x = out;
        }
        break;
      case 'pixelShuffle': x = shuffle(x, 2); break;
      case 'memBlock': {
        const [c0, c2, c4] = layer.convs;
        const body = conv(unary('relu', conv(unary('relu', conv(withPast(x), c0)), c2)), c4);
        x = unary('relu', add(body, layer.skip ? conv(x, layer.skip) : x));
        break;
      }
      case 'superMemBlock': {
        const cat = withPast(x);
        if (layer.depthwise.channels !== cat.channels) fail('WEIGHTS_SHAPE', `decoder.${layer.depthwise.key} has ${layer.depthwise.channels} channels but its input has ${cat.channels}`);
        const dw = like(cat);
        ops.push({ kind: 'depthwise', x: cat, out: dw, weights: layer.depthwise });
        x = add(conv(unary('relu', conv(dw, layer.expand)), layer.project), x);
        break;
      }
      case 'tgrow': {
        const stride = doubling[layer.stage] ? 2 : 1;
        const rows = x.channels * stride;
        const c = layer.conv;
        if (c.cout < rows || c.cout % x.channels) fail('WEIGHTS_SHAPE', `decoder.${c.key} has ${c.cout} output channels; TGrow by ${stride} of ${x.channels} needs ${rows}`);
        // patch_tgrow_layers: keep the last-timestep rows.
        const sliced = c.cout === rows ? c : { ...c, cout: rows, weight: c.weight.subarray((c.cout - rows) * c.cin) };
        const grown = conv(x, sliced);
        if (stride > 1) {
          const out = value(x.channels, x.level, (x.frames ?? 1) * stride);
          ops.push({ kind: 'toFrames', x: grown, out, stride });
          x = out;
        } else x = grown;
        break;
      }
    }
  }
  if (model.patch > 1) x = shuffle(x, model.patch);
  if (x.channels !== 3) fail('WEIGHTS_SHAPE', `the decoder ends in ${x.channels} channels, expected 3 x patch^2`);
  return { weights, input, output: x, ops, states, upscale: 2 ** x.level, timeUpscale: x.frames ?? 1 };
}

/**
 * The layers with each nearest upsample moved after the TGrow that follows it: TGrow's 1x1 conv and
 * split into frames are per pixel, so they commute with it exactly and run on a quarter of the
 * pixels, and no full-resolution frame holds TGrow's doubled channels.
 */
function upsampleAfterTGrow(layers: readonly VideoLayerWeights[]): VideoLayerWeights[] {
  const out = [...layers];
  for (let i = 0; i + 1 < out.length; i++) {
    const [a, b] = [out[i]!, out[i + 1]!];
    if (a.kind === 'upsample' && b.kind === 'tgrow' && b.conv.k === 1) [out[i], out[i + 1]] = [b, a];
  }
  return out;
}

/** A run of ops between resolution steps: it can run on any number of its input frames, carrying its states. */
export interface VideoStage {
  readonly input: Value;
  readonly output: Value;
  readonly ops: readonly VideoOp[];
  /** State indices of its prevFrame ops, in order. */
  readonly states: readonly number[];
}

/**
 * The graph cut before each op that raises the resolution (upsample, pixel shuffle): what passes
 * between stages is the smaller map, and each stage's full-resolution work lives and dies inside
 * one run of the backend. The output's pixel shuffle (patch > 1) is no cut: no work follows it,
 * so it stays in the last stage, where a backend can write its output through it. Every op but
 * prevFrame is per frame and prevFrame carries its state, so any cut gives the same frames.
 */
export function videoStages(graph: VideoGraph): VideoStage[] {
  const cut = (op: VideoOp) => op.kind === 'upsample' || (op.kind === 'pixelShuffle' && op.out.id !== graph.output.id);
  return cutOps(graph.ops, graph.input, graph.output, cut).map((run) => ({
    ...run,
    states: run.ops.flatMap((op) => (op.kind === 'prevFrame' ? [op.state] : [])),
  }));
}

/** About the bytes one run of a stage holds per input frame at an h x w latent: its two largest activations (a conv's input and output). */
export function stageFrameBytes(stage: VideoStage, h: number, w: number): number {
  const per = (v: Value) => 4 * v.channels * (h << v.level) * (w << v.level) * ((v.frames ?? 1) / (stage.input.frames ?? 1));
  const sizes = stage.ops.map((op) => per(op.out)).sort((a, b) => b - a);
  return sizes.slice(0, 2).reduce((a, b) => a + b, 0);
}

/** Multiply-adds x 2 per latent frame at an h x w latent. */
export function videoGraphFlops(graph: VideoGraph, h: number, w: number): number {
  let flops = 0;
  for (const op of graph.ops) {
    const px = (op.out.frames ?? 1) * (h << op.out.level) * (w << op.out.level);
    if (op.kind === 'conv') flops += 2 * op.conv.k ** 2 * op.conv.cin * op.conv.cout * px;
    if (op.kind === 'depthwise') flops += 2 * op.weights.k ** 2 * op.weights.channels * px;
  }
  return flops;
}

/** Multiply-adds x 2 of decoding `frames` latent frames of h x w at `scale` and `timeScale` (what a cheaper setting saves). */
export function videoDecodeFlops(weights: VideoWeights, frames: number, h: number, w: number, scale = 1, timeScale = 1): number {
  return frames * videoGraphFlops(lowerVideoDecoder(weights, videoSkips(weights.model, scale, timeScale)), h, w);
}
