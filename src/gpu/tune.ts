// Conv kernels chosen by measurement on the user's adapter: on first use of a layer shape, every
// variant that accepts it is timed on a sample of that layer's size, and the fastest is kept, in
// memory and in the app's TuningStore (e.g. localStorage), under the adapter's description.
import { act4Bytes, convDimsData, convDispatch, convPipeline, convShapeKey, CONV_VARIANTS, DEFAULT_CONV, type ConvDims, type ConvShape, type ConvVariant } from './conv.js';
import { deviceAdapterInfo, isFallbackAdapter } from './device.js';
import { encodeDispatches } from './kernels.js';
import type { GpuSubmitter } from './submit.js';

/**
 * Where measurements are remembered across decoders (and, with a persistent store, across page
 * loads): `localStorage` fits as is. Values are small JSON strings under `taesd-web:` keys.
 */
export interface TuningStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** The default store: this page or process only. */
export function memoryStore(): TuningStore {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

export const processStore = memoryStore();

/** What one layer shape runs with, and what the tuner measured (ms per dispatch; empty when not tuned). */
export interface KernelChoice {
  readonly variant: string;
  readonly timings: Readonly<Record<string, number>>;
}

/**
 * Output size the candidates are timed at: the layer's width and rows, capped so a CPU-emulated
 * adapter tunes in seconds; a GPU gets a sample big enough to fill it, as a tiny one favours small tiles.
 */
const SAMPLE = { emulated: { width: 128, rows: 32 }, gpu: { width: 512, rows: 128 } };
/** Dispatches per timing; the best of ROUNDS counts. */
const REPEATS = 4;
const ROUNDS = 3;

export function adapterKey(device: GPUDevice): string {
  const i = deviceAdapterInfo(device);
  return i ? [i.vendor, i.architecture, i.device, i.description].join('|') : 'unknown adapter';
}

/**
 * The fastest variant for `shape` on `device`, timed on first use (the store's answer afterwards).
 * `outW`/`outRows` are the layer's real output size, sampled down. Variants that fail to compile
 * or run are skipped; DEFAULT_CONV is always among the candidates.
 */
export async function tuneConv(gpu: GpuSubmitter, shape: ConvShape, outW: number, outRows: number, store: TuningStore): Promise<KernelChoice> {
  const { device } = gpu;
  const key = `taesd-web:conv:${adapterKey(device)}:${convShapeKey(shape)}`;
  const known = parseChoice(await store.getItem(key));
  if (known) return known;
  const candidates = CONV_VARIANTS.filter((v) => v.refuses(shape) === null);
  const timings: Record<string, number> = {};
  const info = deviceAdapterInfo(device), cap = info && !isFallbackAdapter(info) ? SAMPLE.gpu : SAMPLE.emulated;
  const scratch = sampleBuffers(device, shape, candidates, Math.min(outW, cap.width), Math.min(outRows, cap.rows));
  try {
    for (const variant of candidates) {
      const ms = await timeVariant(gpu, variant, shape, scratch).catch(() => null);
      if (ms !== null) timings[variant.id] = ms;
    }
  } finally {
    scratch.destroy();
  }
  const best = Object.entries(timings).sort((a, b) => a[1] - b[1])[0]?.[0] ?? DEFAULT_CONV.id;
  const choice = { variant: best, timings };
  await store.setItem(key, JSON.stringify(choice));
  return choice;
}

function parseChoice(text: string | null): KernelChoice | null {
  try {
    const v = text === null ? null : (JSON.parse(text) as Partial<KernelChoice>);
    return v && typeof v.variant === 'string' && CONV_VARIANTS.some((c) => c.id === v.variant) ? { variant: v.variant, timings: v.timings ?? {} } : null;
  } catch {
    return null; // a store holding something else is treated as empty
  }
}

interface SampleBuffers {
  readonly dims: ConvDims;
  readonly uniform: GPUBuffer;
  readonly src: GPUBuffer;
  readonly skip: GPUBuffer;
  readonly stats: GPUBuffer;
  readonly dst: GPUBuffer;
  /** Zero weights, as long as the longest packing of the candidates. */
  readonly weights: GPUBuffer;
  destroy(): void;
}

/** Zero-filled buffers of the sample's size: timing needs the sizes, not the values. */
function sampleBuffers(device: GPUDevice, shape: ConvShape, candidates: readonly ConvVariant[], outW: number, outRows: number): SampleBuffers {
  const inW = shape.upsample ? Math.ceil(outW / 2) : outW;
  const inRows = (shape.upsample ? Math.ceil(outRows / 2) : outRows) + shape.k;
  const dims: ConvDims = { inW, inRow0: 0, outW, outH: outRows, outRow0: 0, outRows, dstRow0: 0, skipRow0: 0, inRows, dstRows: outRows, skipRows: outRows, batch: 1 };
  const vec4 = act4Bytes(shape.precision);
  const usage = GPUBufferUsage.STORAGE;
  const made: GPUBuffer[] = [];
  const buffer = (size: number, use = usage) => {
    const b = device.createBuffer({ label: 'taesd tuning', size: Math.ceil(size / 16) * 16 + 16, usage: use });
    made.push(b);
    return b;
  };
  const data = convDimsData(dims);
  const uniform = buffer(data.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(uniform, 0, data);
  return {
    dims, uniform,
    weights: buffer(4 * Math.max(DEFAULT_CONV.packedLength(shape), ...candidates.map((v) => v.packedLength(shape)))),
    src: buffer((shape.zeroVec4s + inRows * inW * shape.cinBlocks) * vec4),
    skip: buffer((shape.zeroVec4s + outRows * outW * shape.coutBlocks) * vec4),
    stats: buffer(8 * Math.max(1, shape.normGroups)),
    dst: buffer((shape.zeroVec4s + outRows * outW * shape.coutBlocks) * (shape.outputF32 ? 16 : vec4)),
    destroy: () => { for (const b of made) b.destroy(); },
  };
}

/** Milliseconds per dispatch of `variant` on the sample: the best of a few rounds, after a warm-up. */
async function timeVariant(gpu: GpuSubmitter, variant: ConvVariant, shape: ConvShape, s: SampleBuffers): Promise<number> {
  const { device } = gpu;
  const params = variant.params(shape);
  await convPipeline(device, variant, params);
  const dispatch = convDispatch(device, `taesd tuning ${variant.id}`, variant, params, s.dims, {
    dims: { buffer: s.uniform }, src: s.src, weights: s.weights, skip: s.skip, stats: s.stats, dst: s.dst, prev: s.src,
  });
  const run = async (n: number) => {
    // Inside the decoder's error scopes: a variant this adapter rejects fails here and is skipped.
    const encoder = device.createCommandEncoder({ label: 'taesd tuning' });
    encodeDispatches(encoder, Array.from({ length: n }, () => dispatch), 'taesd tuning');
    await gpu.submit(encoder, () => device.queue.onSubmittedWorkDone());
  };
  await run(1);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    await run(REPEATS);
    best = Math.min(best, (performance.now() - t) / REPEATS);
  }
  return best;
}
