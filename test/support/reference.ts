// Plain CPU reference of the decoder, written straight from the math (float64 accumulation): it
// interprets the lowered op list (src/model/graph.ts) one op at a time, so every backend's kernels
// and fusions are compared with the ops themselves. Checked against PyTorch goldens in graph.test.ts.
import type { DecoderGraph, Op } from '../../src/model/graph.js';
import type { Latent } from '../../src/model/latent.js';
import type { ConvWeights } from '../../src/model/weights.js';

/** A [c,h,w] float32 feature map. */
export interface Map3 { c: number; h: number; w: number; data: Float32Array }

export function conv(x: Map3, p: ConvWeights): Map3 {
  const { h, w } = x;
  const out = new Float32Array(p.cout * h * w);
  const acc = new Float64Array(w);
  const r = (p.k - 1) / 2;
  // Row by row, so the accumulator stays in cache: each output row sums cin x k x k shifted input rows.
  for (let o = 0; o < p.cout; o++) {
    for (let y = 0; y < h; y++) {
      acc.fill(p.bias ? p.bias[o]! : 0);
      for (let i = 0; i < p.cin; i++) {
        for (let ky = 0; ky < p.k; ky++) {
          const sy = y + ky - r;
          if (sy < 0 || sy >= h) continue;
          const row = (i * h + sy) * w;
          for (let kx = 0; kx < p.k; kx++) {
            const wt = p.weight[((o * p.cin + i) * p.k + ky) * p.k + kx]!;
            const dx = kx - r;
            const lo = Math.max(0, -dx), hi = Math.min(w, w - dx);
            for (let xx = lo; xx < hi; xx++) acc[xx]! += wt * x.data[row + xx + dx]!;
          }
        }
      }
      out.set(acc, (o * h + y) * w);
    }
  }
  return { c: p.cout, h, w, data: out };
}

export const relu = (x: Map3): Map3 => ({ ...x, data: x.data.map((v) => Math.max(v, 0)) });
export const add = (a: Map3, b: Map3): Map3 => ({ ...a, data: a.data.map((v, i) => v + b.data[i]!) });

export function upsample(x: Map3): Map3 {
  const H = 2 * x.h, W = 2 * x.w;
  const out = new Float32Array(x.c * H * W);
  for (let c = 0; c < x.c; c++)
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < W; xx++) out[(c * H + y) * W + xx] = x.data[(c * x.h + (y >> 1)) * x.w + (xx >> 1)]!;
  return { c: x.c, h: H, w: W, data: out };
}

export function groupNorm(x: Map3, gamma: Float32Array, beta: Float32Array, groups: number, eps: number): Map3 {
  const per = (x.c / groups) * x.h * x.w;
  const out = new Float32Array(x.data.length);
  for (let g = 0; g < groups; g++) {
    let mean = 0;
    for (let i = 0; i < per; i++) mean += x.data[g * per + i]!;
    mean /= per;
    let v = 0;
    for (let i = 0; i < per; i++) v += (x.data[g * per + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / per + eps);
    for (let i = 0; i < per; i++) {
      const c = Math.floor((g * per + i) / (x.h * x.w));
      out[g * per + i] = (x.data[g * per + i]! - mean) * inv * gamma[c]! + beta[c]!;
    }
  }
  return { ...x, data: out };
}

export const tanhClamp = (x: Map3): Map3 => ({ ...x, data: x.data.map((v) => Math.tanh(v / 3) * 3) });

function run(op: Op, get: (id: number) => Map3): Map3 {
  const x = get(op.x.id);
  switch (op.kind) {
    case 'clamp': return tanhClamp(x);
    case 'conv': return conv(x, op.conv);
    case 'relu': return relu(x);
    case 'add': return add(x, get(op.y.id));
    case 'upsample': return upsample(x);
    case 'groupNorm': return groupNorm(x, op.gamma, op.beta, op.groups, op.eps);
  }
}

/** The whole decoder: latent in TAESD space -> raw [3, upscale*h, upscale*w]. Values are freed after their last use. */
export function referenceDecode(graph: DecoderGraph, latent: Latent): Map3 {
  const values = new Map<number, Map3>([[graph.input.id, { c: latent.channels, h: latent.height, w: latent.width, data: latent.data }]]);
  const lastUse = new Map<number, number>();
  graph.ops.forEach((op, i) => { lastUse.set(op.x.id, i); if (op.kind === 'add') lastUse.set(op.y.id, i); });
  graph.ops.forEach((op, i) => {
    values.set(op.out.id, run(op, (id) => values.get(id)!));
    for (const [id, last] of lastUse) if (last === i) values.delete(id);
  });
  const out = values.get(graph.output.id)!;
  if (out.h !== latent.height * graph.upscale) throw new Error('reference: wrong output size');
  return out;
}

/** max |a - b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
