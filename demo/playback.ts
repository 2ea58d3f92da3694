// Plays a run: each step decoded by TAESD and by the linear preview, timed, and handed to the page
// as a Frame. Stop (the signal) ends it between steps: a decode in flight finishes, none starts.
import type { Decoder, DecodeOptions, LatentInput, RgbaImage } from 'taesd-web';
import type { Frame } from './filmstrip.js';
import { isBatch, latentDims, type Run } from './sources.js';
import type { StepTimes } from './timings.js';
import { nextFrame } from './ui.js';

export interface PlayOptions {
  readonly decoder: Decoder;
  /** The linear preview decoder, or null where the model has none. */
  readonly linear: Decoder | null;
  /** Output scale for TAESD: 1, 1/2, 1/4, 1/8. */
  readonly scale: number;
  readonly signal: AbortSignal;
  readonly times: StepTimes;
  /** Called with each decoded frame, in order; `index` counts steps (or batch items). */
  readonly onFrame: (frame: Frame, index: number, total: number) => void;
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await work();
  return { value, ms: performance.now() - t0 };
}

/**
 * Decodes every step of `run` in order; resolves 'stopped' if the signal fired first.
 * decode() rather than decodeToCanvas: the filmstrip and the downloads need each step's pixels,
 * and reading them back costs ~1 ms next to the decode (see the GPU section for decodeToCanvas).
 */
export async function play(run: Run, o: PlayOptions): Promise<'done' | 'stopped'> {
  const options: DecodeOptions = { scale: o.scale, latentSpace: run.space };
  const sizeKey = (latent: LatentInput) => JSON.stringify([latent.shape, o.scale, run.space]);
  if (isBatch(run)) {
    const latent = run.steps[0]!;
    const n = latentDims(latent).batch;
    const taesd = await timed(() => o.decoder.decodeBatch(latent, options));
    const warmup = o.times.record(o.decoder, sizeKey(latent), taesd.ms);
    const linear = o.linear && (await timed(() => o.linear!.decodeBatch(latent, { latentSpace: run.space })));
    taesd.value.forEach((image, i) => {
      const frame = { name: `item ${i + 1} of ${n}`, backend: o.decoder.backend, image, linear: linear?.value[i] ?? null, ms: taesd.ms / n, linearMs: linear ? linear.ms / n : null, warmup };
      o.onFrame(frame, i, n);
    });
    return 'done';
  }
  for (const [i, latent] of run.steps.entries()) {
    if (o.signal.aborted) return 'stopped';
    const taesd = await timed(() => o.decoder.decode(latent, options));
    const warmup = o.times.record(o.decoder, sizeKey(latent), taesd.ms);
    const linear: { value: RgbaImage; ms: number } | null = o.linear && (await timed(() => o.linear!.decode(latent, { latentSpace: run.space })));
    o.onFrame({ name: run.names[i]!, backend: o.decoder.backend, image: taesd.value, linear: linear?.value ?? null, ms: taesd.ms, linearMs: linear?.ms ?? null, warmup }, i, run.steps.length);
    await nextFrame();
  }
  return 'done';
}
