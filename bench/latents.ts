// The benchmark's inputs and statistics, shared by the Node child (child.ts), the browser page
// (web/page.ts) and the report: no Node or DOM imports here.

/** A [C, h, w] float32 latent. */
export interface BenchLatent {
  readonly data: Float32Array;
  readonly shape: readonly [number, number, number];
}

/**
 * The latent of `size` x `size` made from the 64x64 astronaut latent (a real photo, so activations
 * look like a sampler's): its centre for smaller sizes, the whole, or the whole tiled for larger.
 */
export function benchLatent(astronaut: { readonly data: Float32Array; readonly shape: readonly number[] }, size: number): BenchLatent {
  const [c, h, w] = astronaut.shape as [number, number, number];
  if (!Number.isInteger(size) || size < 1) throw new Error(`latent size must be a positive integer, got ${size}`);
  const y0 = size < h ? (h - size) >> 1 : 0, x0 = size < w ? (w - size) >> 1 : 0;
  const data = new Float32Array(c * size * size);
  for (let k = 0; k < c; k++) for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    data[(k * size + y) * size + x] = astronaut.data[(k * h + ((y0 + y) % h)) * w + ((x0 + x) % w)]!;
  }
  return { data, shape: [c, size, size] };
}

/** max |a - b|; Infinity when the lengths differ (a different output size is a failed check). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = d; // NaN counts as a failure, not as 0
  }
  return m;
}

/** `n` seeded values (mulberry32, uniform in [-2, 2]: sampler-like magnitudes), the same on every run. */
export function seededLatent(n: number): Float32Array {
  let s = 7;
  return Float32Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 4 - 2;
  });
}

/** The q-quantile (0..1) of the values, nearest rank; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** `1`, `1/2`, `1/4`, ... for a partial decode that skips `skip` upsamples. */
export const scaleName = (skip: number): string => (skip === 0 ? '1' : `1/${2 ** skip}`);

/** The reference output's file in a run's data folder (served to the page under /bench-data/). */
export const referenceFile = (size: number, skip: number): string => `ref-${size}-s${skip}.f32`;
