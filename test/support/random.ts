// Seeded random tensors: weights with the published shapes of any variant, and latents.
import { modelLayers, type ModelSpec } from '../../src/model/registry.js';
import type { StateDict, Tensor } from '../../src/weights/tensor.js';

/** mulberry32: small, seeded uniform numbers in [0, 1), good enough for test data. */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 + Box-Muller. */
export function gaussian(seed: number): () => number {
  const u = uniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const g = gaussian(seed);
  return Float32Array.from({ length: n }, () => g() * scale);
}

/** A state dict with the upstream keys and shapes of `model`, He-scaled so activations stay O(1). */
export function randomStateDict(model: ModelSpec, seed = 1): StateDict {
  const dict: StateDict = new Map();
  let s = seed * 1000;
  const put = (key: string, shape: number[], scale: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const t: Tensor = { dtype: 'F32', shape, data: randomArray(n, s++, scale) };
    dict.set(key, t);
  };
  const conv = (key: string, cin: number, cout: number, k: number, bias: boolean, gain = 1) => {
    put(`${key}.weight`, [cout, cin, k, k], gain * Math.sqrt(2 / (cin * k * k)));
    if (bias) put(`${key}.bias`, [cout], 0.1);
  };
  for (const layer of modelLayers(model)) {
    if (layer.kind === 'conv') conv(layer.key, layer.cin, layer.cout, layer.k, layer.bias);
    if (layer.kind !== 'block') continue;
    const c = layer.channels;
    for (const i of [0, 2, 4]) conv(`${layer.key}.conv.${i}`, c, c, 3, true, i === 4 ? 0.5 : 1);
    if (layer.pool) {
      const p = layer.pool.width;
      conv(`${layer.key}.pool.0`, c, p, 1, false);
      put(`${layer.key}.pool.1.weight`, [p], 0.5);
      put(`${layer.key}.pool.1.bias`, [p], 0.1);
      conv(`${layer.key}.pool.3`, p, c, 1, false, 0.5);
    }
  }
  return dict;
}
