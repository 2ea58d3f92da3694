// Plain CPU reference of the decoder and each of its ops, written straight from the math
// (float64 accumulation), to compare every backend's kernels against.
import { POOL_EPS, POOL_GROUPS, UPSCALE } from '../../src/model/architecture.js';
import type { Latent } from '../../src/model/latent.js';
import type { ConvWeights, DecoderWeights, PoolWeights } from '../../src/model/weights.js';

/** A [c,h,w] float32 feature map. */
export interface Map3 { c: number; h: number; w: number; data: Float32Array }

export function conv(x: Map3, p: ConvWeights): Map3 {
  const { h, w } = x;
  const out = new Float32Array(p.cout * h * w);
  const r = (p.k - 1) / 2;
  for (let o = 0; o < p.cout; o++) {
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let s = p.bias ? p.bias[o]! : 0;
        for (let i = 0; i < p.cin; i++) {
          for (let ky = 0; ky < p.k; ky++) {
            const sy = y + ky - r;
            if (sy < 0 || sy >= h) continue;
            for (let kx = 0; kx < p.k; kx++) {
              const sx = xx + kx - r;
              if (sx < 0 || sx >= w) continue;
              s += p.weight[((o * p.cin + i) * p.k + ky) * p.k + kx]! * x.data[(i * h + sy) * w + sx]!;
            }
          }
        }
        out[(o * h + y) * w + xx] = s;
      }
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

export function groupNorm(x: Map3, gamma: Float32Array, beta: Float32Array, groups = POOL_GROUPS, eps = POOL_EPS): Map3 {
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

export function pool(x: Map3, p: PoolWeights): Map3 {
  return conv(relu(groupNorm(conv(x, p.expand), p.gamma, p.beta)), p.reduce);
}

export function tanhClamp(x: Map3): Map3 {
  return { ...x, data: x.data.map((v) => Math.tanh(v / 3) * 3) };
}

/** The whole decoder: latent in TAESD space -> raw [3, 8h, 8w]. */
export function referenceDecode(weights: DecoderWeights, latent: Latent): Map3 {
  let x: Map3 = tanhClamp({ c: latent.channels, h: latent.height, w: latent.width, data: latent.data });
  for (const layer of weights.layers) {
    if (layer.kind === 'conv') {
      if (layer.upsample) x = upsample(x);
      x = conv(x, layer.conv);
      if (layer.relu) x = relu(x);
    } else {
      if (layer.pool) x = add(x, pool(x, layer.pool));
      const h = conv(relu(conv(relu(conv(x, layer.convs[0])), layer.convs[1])), layer.convs[2]);
      x = relu(add(h, x));
    }
  }
  if (x.h !== latent.height * UPSCALE) throw new Error('reference: wrong output size');
  return x;
}

/** max |a - b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
