// Where a run's latents come from: the shipped example latent blended from noise (synthetic), the
// shipped example step files, or files the user drops. And which models fit a latent.
import { getModel, latentFromFile, MODEL_IDS, type LatentInput, type LatentSpace, type ModelId } from 'taesd-web';
import { ASTRONAUT_URL, EXAMPLE_STEP_URLS, fetchBytes } from './shipped.js';

/** What a run plays: its steps in order (or one batch), in one latent space. */
export interface Run {
  /** Shown with the run, e.g. "synthetic: noise → example latent". */
  readonly title: string;
  /** One latent per step; a single `[N,C,h,w]` with N > 1 is a batch, decoded with decodeBatch. */
  readonly steps: readonly LatentInput[];
  /** Step names (file names, or "step 3"). */
  readonly names: readonly string[];
  readonly space: LatentSpace;
  /** Latent channels, for choosing the model. */
  readonly channels: number;
}

/** `[C,h,w]` or `[N,C,h,w]` -> C, h, w and the batch size. */
export function latentDims(latent: LatentInput): { batch: number; channels: number; height: number; width: number } {
  const s = latent.shape;
  if (s.length === 3) return { batch: 1, channels: s[0]!, height: s[1]!, width: s[2]! };
  if (s.length === 4) return { batch: s[0]!, channels: s[1]!, height: s[2]!, width: s[3]! };
  throw new Error(`a latent is [C,h,w] or [N,C,h,w]; got [${s.join(',')}]`);
}

export const isBatch = (run: Run): boolean => run.steps.length === 1 && latentDims(run.steps[0]!).batch > 1;

let astronaut: Promise<LatentInput & { data: Float32Array }> | null = null;

/** The shipped example latent (32 x 64 x 64), fetched once. */
export function exampleLatent(): Promise<LatentInput & { data: Float32Array }> {
  astronaut ??= fetchBytes(ASTRONAUT_URL).then((bytes) => {
    const { latent } = latentFromFile(bytes, 'astronaut.safetensors');
    return { data: Float32Array.from(latent.data), shape: latent.shape };
  });
  astronaut.catch(() => (astronaut = null));
  return astronaut;
}

/** Standard normal noise from a fixed seed (mulberry32 + Box-Muller), so every run looks the same. */
function gaussianNoise(n: number, seed = 42): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform())), a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** The centre `side x side` window of a [C, h, w] latent. */
export function centreCrop(latent: LatentInput & { data: Float32Array }, side: number): LatentInput & { data: Float32Array } {
  const { channels: c, height: h, width: w } = latentDims(latent);
  if (side >= h && side >= w) return latent;
  const y0 = Math.floor((h - side) / 2), x0 = Math.floor((w - side) / 2);
  const out = new Float32Array(c * side * side);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < side; y++) {
      const from = (ch * h + y0 + y) * w + x0;
      out.set(latent.data.subarray(from, from + side), (ch * side + y) * side);
    }
  return { data: out, shape: [c, side, side] };
}

/**
 * A sampler's x0 estimate converging from noise to the example latent: step i of n is
 * (1 - t) * noise + t * latent with t = i / (n - 1), so the last step is the latent exactly.
 */
export async function syntheticRun(steps: number): Promise<Run> {
  const target = await exampleLatent();
  const noise = gaussianNoise(target.data.length);
  const latents = Array.from({ length: steps }, (_, i) => {
    const t = i / (steps - 1);
    const data = new Float32Array(target.data.length);
    for (let k = 0; k < data.length; k++) data[k] = (1 - t) * noise[k]! + t * target.data[k]!;
    return { data, shape: target.shape };
  });
  return {
    title: `synthetic: noise blended into the example latent over ${steps} steps (not a real sampler)`,
    steps: latents,
    names: latents.map((_, i) => `step ${i}`),
    space: 'model',
    channels: latentDims(target).channels,
  };
}

/** examples/steps: the synthetic 8-step run at 16 x 16 that ships with the package. */
export async function exampleStepsRun(): Promise<Run> {
  const files = await Promise.all(EXAMPLE_STEP_URLS.map(async ({ name, url }) => ({ name, bytes: await fetchBytes(url) })));
  return runFromFiles(files, 'examples/steps: a synthetic 8-step run at 16×16 that ships with the package');
}

/** Dropped or picked files, in name order (step_2 before step_10), as one run. */
export function runFromFiles(files: readonly { name: string; bytes: Uint8Array }[], title?: string): Run {
  if (files.length === 0) throw new Error('no latent files');
  const sorted = [...files].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
  const read = sorted.map((f) => ({ name: f.name, ...latentFromFile(f.bytes, f.name) }));
  const first = latentDims(read[0]!.latent);
  for (const r of read) {
    const d = latentDims(r.latent);
    if (d.channels !== first.channels || d.height !== first.height || d.width !== first.width || (read.length > 1 && d.batch !== 1)) {
      throw new Error(`${r.name} is [${r.latent.shape.join(',')}]; the run's steps must be single latents of one size (${read[0]!.name} is [${read[0]!.latent.shape.join(',')}])`);
    }
    if (r.space !== read[0]!.space) throw new Error(`${r.name} and ${read[0]!.name} hold latents in different spaces (ComfyUI .latent files are raw VAE latents)`);
  }
  const space = read[0]!.space ?? 'model';
  const shown = read.length === 1 ? read[0]!.name : `${read.length} step files`;
  return {
    title: title ?? `${shown}: [${read[0]!.latent.shape.join(',')}]${space === 'vae' ? ', raw VAE latents (ComfyUI .latent)' : ''}`,
    steps: read.map((r) => r.latent),
    names: read.map((r) => r.name),
    space,
    channels: first.channels,
  };
}

/** The models whose decoders take `channels`-channel latents (FLUX.2's packed 128 included). */
export function modelsFor(channels: number): ModelId[] {
  return MODEL_IDS.filter((id) => {
    const { latent } = getModel(id);
    return latent.channels === channels || latent.packedChannels === channels;
  });
}
