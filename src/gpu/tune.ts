// Conv kernels chosen by measurement on the user's adapter: on first use of a layer shape, every
// variant that accepts it is timed on a sample of that layer's size, and the fastest is kept, in
// memory and in the app's TuningStore (e.g. localStorage), under the adapter's description.
import { convDimsData, convDispatch, convPipeline, CONV_VARIANTS, DEFAULT_CONV, type ConvDims, type ConvShape, type ConvVariant } from './conv.js';
import { deviceAdapterInfo } from './device.js';
import { encodeDispatches } from './kernels.js';

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

/** Output size the candidates are timed at: the layer's width and rows, capped so a CPU-emulated adapter tunes in seconds. */
const SAMPLE_WIDTH = 128;
const SAMPLE_ROWS = 32;
/** Dispatches per timing; the best of ROUNDS counts. */
const REPEATS = 4;
const ROUNDS = 3;

export function adapterKey(device: GPUDevice): string {
  const i = deviceAdapterInfo(device);
  return i ? [i.vendor, i.architecture, i.device, i.description].join('|') : 'unknown adapter';
}

const shapeKey = (s: ConvShape) => `${s.k}:${s.cinBlocks}>${s.coutBlocks}:${s.upsample ? 'u' : ''}${s.relu ? 'r' : ''}${s.residual ? 's' : ''}${s.normGroups ? `n${s.normGroups}` : ''}:${s.precision}${s.outputF32 ? ':out32' : ''}`;

/**
 * The fastest variant for `shape` on `device`, timed on first use (the store's answer afterwards).
 * `outW`/`outRows` are the layer's real output size, sampled down. Variants that fail to compile
 * or run are skipped; DEFAULT_CONV is always among the candidates.
 */
export async function tuneConv(device: GPUDevice, shape: ConvShape, outW: number, outRows: number, store: TuningStore): Promise<KernelChoice> {
  const key = `taesd-web:conv:${adapterKey(device)}:${shapeKey(shape)}`;
  const known = parseChoice(await store.getItem(key));
  if (known) return known;
  const candidates = CONV_VARIANTS.filter((v) => v.refuses(shape) === null);
  const timings: Record<string, number> = {};
  const scratch = sampleBuffers(device, shape, Math.min(outW, SAMPLE_WIDTH), Math.min(outRows, SAMPLE_ROWS));
  try {
    for (const variant of candidates) {
      const ms = await timeVariant(device, variant, shape, scratch).catch(() => null);
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
  /** Weight buffers per packing, made on first use. */
  readonly weights: Map<string, GPUBuffer>;
  destroy(): void;
}

/** Zero-filled buffers of the sample's size: timing needs the sizes, not the values. */
function sampleBuffers(device: GPUDevice, shape: ConvShape, outW: number, outRows: number): SampleBuffers {
  const inW = shape.upsample ? Math.ceil(outW / 2) : outW;
  const inRows = (shape.upsample ? Math.ceil(outRows / 2) : outRows) + shape.k;
  const dims: ConvDims = { inW, inRow0: 0, outW, outH: outRows, outRow0: 0, outRows, dstRow0: 0, skipRow0: 0, inRows, dstRows: outRows, skipRows: outRows, batch: 1 };
  const vec4 = shape.precision === 'f16' ? 8 : 16;
  const usage = GPUBufferUsage.STORAGE;
  const made: GPUBuffer[] = [];
  const buffer = (size: number, use = usage) => {
    const b = device.createBuffer({ label: 'taesd tuning', size: Math.ceil(size / 16) * 16 + 16, usage: use });
    made.push(b);
    return b;
  };
  const uniform = buffer(48, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(uniform, 0, convDimsData(dims) as Int32Array<ArrayBuffer>);
  const weights = new Map<string, GPUBuffer>();
  return {
    dims, uniform, weights,
    src: buffer((shape.zeroVec4s + inRows * inW * shape.cinBlocks) * vec4),
    skip: buffer((shape.zeroVec4s + outRows * outW * shape.coutBlocks) * vec4),
    stats: buffer(8 * Math.max(1, shape.normGroups)),
    dst: buffer((shape.zeroVec4s + outRows * outW * shape.coutBlocks) * (shape.outputF32 ? 16 : vec4)),
    destroy: () => { for (const b of [...made, ...weights.values()]) b.destroy(); },
  };
}

/** Milliseconds per dispatch of `variant` on the sample: the best of a few rounds, after a warm-up. */
async function timeVariant(device: GPUDevice, variant: ConvVariant, shape: ConvShape, s: SampleBuffers): Promise<number> {
  let weights = s.weights.get(variant.packing);
  if (!weights) {
    const size = 16 * (shape.coutBlocks * shape.k * shape.k * shape.cinBlocks * 4 + shape.coutBlocks + 2 * shape.cinBlocks);
    s.weights.set(variant.packing, (weights = device.createBuffer({ label: 'taesd tuning weights', size, usage: GPUBufferUsage.STORAGE })));
  }
  const params = variant.params(shape);
  await convPipeline(device, variant, params);
  const dispatch = convDispatch(device, `taesd tuning ${variant.id}`, variant, params, s.dims, {
    dims: { buffer: s.uniform, size: 48 }, src: s.src, weights, skip: s.skip, stats: s.stats, dst: s.dst,
  });
  const run = async (n: number) => {
    // Scoped synchronously: a variant this adapter rejects is skipped, and the app's scopes see none of it.
    device.pushErrorScope('validation');
    const encoder = device.createCommandEncoder({ label: 'taesd tuning' });
    encodeDispatches(encoder, Array.from({ length: n }, () => dispatch), 'taesd tuning');
    device.queue.submit([encoder.finish()]);
    const error = device.popErrorScope();
    await device.queue.onSubmittedWorkDone();
    const e = await error;
    if (e) throw new Error(e.message);
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
