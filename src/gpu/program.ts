// The decoder graph fused into GPU steps: a nearest upsample is read through by the conv after
// it, GroupNorm + ReLU are applied by the conv that reads them, and ReLU and residual adds run in
// the conv's epilogue. What cannot be fused that way is a bug in the graph, reported as INTERNAL.
import { fail } from '../errors.js';
import { opInputs, type DecoderGraph, type Op, type Value } from '../model/graph.js';
import type { ConvWeights } from '../model/weights.js';

/** Channels are stored in blocks of 4 (one vec4); 3 output channels take one block. */
export const blocks = (channels: number): number => Math.ceil(channels / 4);

/**
 * What a GPU buffer region holds: a feature map (`channelBlocks` vec4s per pixel at 2^level x the
 * latent size), or a GroupNorm's per-group statistics of one.
 */
export interface Activation {
  readonly id: number;
  readonly holds: 'features' | 'stats';
  /** The op-list value it holds (after fusion: the last fused op's output). */
  readonly value: number;
  readonly channelBlocks: number;
  readonly level: number;
}

export interface ConvStep {
  readonly kind: 'conv';
  readonly conv: ConvWeights;
  readonly src: Activation;
  readonly dst: Activation;
  /** The residual added before the ReLU (a block's skip connection, taef2's pool branch). */
  readonly residual: Activation | null;
  /** GroupNorm (statistics from `stats`, affine from `norm`) + ReLU applied to the input as it is read. */
  readonly stats: Activation | null;
  readonly norm: { readonly gamma: Float32Array; readonly beta: Float32Array; readonly groups: number } | null;
  readonly upsample: boolean;
  readonly relu: boolean;
}

/** Per-group mean and 1/sqrt(var + eps) of `src`, over the whole image. */
export interface StatsStep {
  readonly kind: 'stats';
  readonly src: Activation;
  readonly dst: Activation;
  readonly groups: number;
  readonly eps: number;
}

export type Step = ConvStep | StatsStep;

/** A decoder as GPU steps: `latent` is filled by the input kernel, `output` holds RGB(+0). */
export interface Program {
  readonly graph: DecoderGraph;
  readonly latent: Activation;
  readonly steps: readonly Step[];
  readonly output: Activation;
  /**
   * vec4s of zeros at the start of every activation buffer, as many as the widest 3x3 conv input
   * has channel blocks: out-of-image taps read them instead of branching.
   */
  readonly zeroVec4s: number;
}

export function buildProgram(graph: DecoderGraph): Program {
  const producer = new Map<number, Op>();
  const consumers = new Map<number, Op[]>();
  for (const op of graph.ops) {
    producer.set(op.out.id, op);
    for (const v of opInputs(op)) consumers.set(v.id, [...(consumers.get(v.id) ?? []), op]);
  }
  const onlyConsumer = (v: Value): Op | undefined => {
    const c = consumers.get(v.id);
    return c?.length === 1 ? c[0] : undefined;
  };
  const acts = new Map<number, Activation>();
  let next = 0;
  const define = (v: Value, holds: Activation['holds'] = 'features'): Activation => {
    const a = { id: next++, holds, value: v.id, channelBlocks: holds === 'stats' ? 0 : blocks(v.channels), level: v.level };
    acts.set(v.id, a);
    return a;
  };
  const actOf = (v: Value, by: string): Activation => acts.get(v.id) ?? fail('INTERNAL', `GPU program: ${by} reads value ${v.id}, which no fused step holds`);

  const steps: Step[] = [];
  const absorbed = new Set<Op>();
  let latent: Activation | null = null;
  for (const op of graph.ops) {
    if (absorbed.has(op)) continue;
    switch (op.kind) {
      case 'clamp':
        // The input kernel applies the clamp as it converts the latent.
        if (op.x !== graph.input || latent) fail('INTERNAL', 'GPU program: the clamp must be the first op, on the latent');
        latent = define(op.out);
        break;
      case 'upsample':
        break; // read through by the conv that consumes it
      case 'groupNorm': {
        const stats = define(op.out, 'stats');
        steps.push({ kind: 'stats', src: actOf(op.x, 'GroupNorm'), dst: stats, groups: op.groups, eps: op.eps });
        break;
      }
      case 'relu':
        // A ReLU after a conv is absorbed by that conv; one after a GroupNorm is applied by the conv reading it.
        if (producer.get(op.x.id)?.kind !== 'groupNorm') fail('INTERNAL', `GPU program: no conv to fuse the ReLU of value ${op.x.id} into`);
        break;
      case 'add':
        fail('INTERNAL', `GPU program: no conv to fuse the add of values ${op.x.id} and ${op.y.id} into`);
      case 'conv': {
        let src = op.x, upsample = false;
        let norm: ConvStep['norm'] = null, stats: Activation | null = null;
        const before = producer.get(src.id);
        const gn = before?.kind === 'relu' ? producer.get(before.x.id) : undefined;
        if (before?.kind === 'upsample') {
          upsample = true;
          src = before.x;
        } else if (gn?.kind === 'groupNorm') {
          norm = { gamma: gn.gamma, beta: gn.beta, groups: gn.groups };
          stats = actOf(gn.out, 'a GroupNorm input');
          src = gn.x;
        }
        let out = op.out, residual: Activation | null = null, relu = false;
        let after = onlyConsumer(out);
        if (after?.kind === 'add') {
          residual = actOf(after.x === out ? after.y : after.x, `conv ${op.conv.key}'s residual`);
          absorbed.add(after);
          out = after.out;
          after = onlyConsumer(out);
        }
        if (after?.kind === 'relu') {
          relu = true;
          absorbed.add(after);
          out = after.out;
        }
        steps.push({ kind: 'conv', conv: op.conv, src: actOf(src, `conv ${op.conv.key}`), dst: define(out), residual, stats, norm, upsample, relu });
        break;
      }
    }
  }
  if (!latent) fail('INTERNAL', 'GPU program: the graph has no input clamp');
  const widest3x3 = steps.reduce((m, s) => (s.kind === 'conv' && s.conv.k > 1 ? Math.max(m, s.src.channelBlocks) : m), 1);
  return { graph, latent, steps, output: actOf(graph.output, 'the output'), zeroVec4s: widest3x3 };
}
