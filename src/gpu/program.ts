import { POOL_EPS, POOL_GROUPS } from '../model/architecture.js';
import type { ConvWeights, DecoderWeights } from '../model/weights.js';
import { blocks } from './pack.js';

/** An activation of the decoder: `channelBlocks` vec4s per pixel at 2^level x the latent size. */
export interface Activation {
  readonly id: number;
  readonly channelBlocks: number;
  readonly level: number;
}

export interface ConvStep {
  readonly kind: 'conv';
  readonly conv: ConvWeights;
  /** Index into the decoder's packed-weights list. */
  readonly weights: number;
  readonly src: Activation;
  readonly dst: Activation;
  readonly skip: Activation | null;
  /** The GroupNorm statistics to apply to the input (taef2's pool branch), or null. */
  readonly stats: Activation | null;
  readonly upsample: boolean;
  readonly relu: boolean;
}

export interface StatsStep {
  readonly kind: 'stats';
  readonly src: Activation;
  readonly dst: Activation;
}

export type Step = ConvStep | StatsStep;

/** A decoder as GPU steps: `latent` is filled by the input kernel, `output` holds RGB(+0) at level 3. */
export interface Program {
  readonly latent: Activation;
  readonly steps: readonly Step[];
  readonly output: Activation;
  /** Every conv's weights, in the order ConvStep.weights indexes them. */
  readonly convs: readonly { conv: ConvWeights; norm?: { gamma: Float32Array; beta: Float32Array } }[];
}

export const GN_EPS = POOL_EPS;
export const GN_GROUPS = POOL_GROUPS;

export function buildProgram(weights: DecoderWeights): Program {
  let next = 0;
  const act = (channels: number, level: number): Activation => ({ id: next++, channelBlocks: blocks(channels), level });
  const steps: Step[] = [];
  const convs: Program['convs'][number][] = [];
  const conv = (c: ConvWeights, src: Activation, o: { relu?: boolean; upsample?: boolean; skip?: Activation; stats?: Activation; norm?: { gamma: Float32Array; beta: Float32Array } } = {}) => {
    const dst = act(c.cout, src.level + (o.upsample ? 1 : 0));
    convs.push(o.norm ? { conv: c, norm: o.norm } : { conv: c });
    steps.push({ kind: 'conv', conv: c, weights: convs.length - 1, src, dst, skip: o.skip ?? null, stats: o.stats ?? null, upsample: !!o.upsample, relu: !!o.relu });
    return dst;
  };
  const latent = act(weights.model.latentChannels, 0);
  let x = latent;
  for (const layer of weights.layers) {
    if (layer.kind === 'conv') {
      x = conv(layer.conv, x, { relu: layer.relu, upsample: layer.upsample });
      continue;
    }
    if (layer.pool) {
      const expanded = conv(layer.pool.expand, x);
      const stats: Activation = { id: next++, channelBlocks: 0, level: x.level };
      steps.push({ kind: 'stats', src: expanded, dst: stats });
      x = conv(layer.pool.reduce, expanded, { skip: x, stats, norm: { gamma: layer.pool.gamma, beta: layer.pool.beta } });
    }
    const t = conv(layer.convs[0], x, { relu: true });
    const u = conv(layer.convs[1], t, { relu: true });
    x = conv(layer.convs[2], u, { relu: true, skip: x });
  }
  return { latent, steps, output: x, convs };
}

/** Half-open row range [lo, hi) in absolute rows of an activation's level. */
export interface Rows { lo: number; hi: number }

/**
 * Rows each banded step must compute so that output rows [r0, r1) come out exactly as in an
 * unbanded decode: a 3x3 conv needs one more input row on each side (inside the image), an
 * upsampling conv the source rows under those. Steps at level 0 (latent resolution, where the
 * GroupNorm's global statistics live) are not banded; their rows are the whole latent.
 */
export function bandRows(program: Program, latentH: number, r0: number, r1: number): Map<number, Rows> {
  const need = new Map<number, Rows>();
  const grow = (a: Activation, lo: number, hi: number) => {
    const height = latentH << a.level;
    lo = Math.max(0, lo); hi = Math.min(height, hi);
    const r = need.get(a.id);
    need.set(a.id, r ? { lo: Math.min(r.lo, lo), hi: Math.max(r.hi, hi) } : { lo, hi });
  };
  grow(program.output, r0, r1);
  for (let i = program.steps.length - 1; i >= 0; i--) {
    const s = program.steps[i]!;
    if (s.kind !== 'conv' || s.dst.level === 0) continue;
    const out = need.get(s.dst.id);
    if (!out) continue;
    const k = s.conv.k >> 1;
    if (s.upsample) {
      const lo = Math.max(0, out.lo - k), hi = Math.min(latentH << s.dst.level, out.hi + k);
      grow(s.src, lo >> 1, ((hi - 1) >> 1) + 1);
    } else grow(s.src, out.lo - k, out.hi + k);
    if (s.skip) grow(s.skip, out.lo, out.hi);
  }
  return need;
}

/** Output row bands [r0, r1) of at most `bandHeight` rows (a multiple of 8) covering `height`. */
export function bands(height: number, bandHeight: number): [number, number][] {
  const out: [number, number][] = [];
  for (let r = 0; r < height; r += bandHeight) out.push([r, Math.min(height, r + bandHeight)]);
  return out;
}
