// One backend configuration on one latent, measured the same way in Node (child.ts) and in the
// browser (web/page.ts): cold start, an output check against the reference, then timed decodes.
// Results are emitted as lines (objects) that the caller prints or hands to its driver.
import type { Decoder } from '../src/decoder.js';
import { maxAbsDiff, type BenchLatent } from './latents.js';

/** A decoder made ready for the benchmark. */
export interface Runner {
  /** What the run should say about itself (the backend auto chose, threads, ...). */
  readonly note: string;
  /** One decode as a user runs it: the timed call. */
  decode(): Promise<unknown>;
  /** The raw float output `[3, H, W]`: the first (cold) decode, checked against the reference. */
  raw(): Promise<Float32Array>;
  /** GPU time of the last decode (timestamp queries), where a timer is attached. */
  gpuMs?(): Promise<number | null>;
  destroy(): void;
}

export interface MeasureOptions {
  /**
   * Timed decodes: at least minRuns (1 when the first decode took longer than budgetMs), then more
   * until budgetMs has passed or maxRuns are done.
   */
  readonly minRuns: number;
  readonly maxRuns: number;
  readonly budgetMs: number;
  /** The output to compare with (null: not checked) and the largest max |diff| allowed. */
  readonly reference: Float32Array | null;
  readonly tolerance: number | null;
}

export type Line =
  | { readonly kind: 'note'; readonly note: string }
  /** createMs: the decoder from weights on disk (or served) to ready; firstMs: its first decode (raw output: pipelines, session warm-up). */
  | { readonly kind: 'cold'; readonly createMs: number; readonly firstMs: number }
  | { readonly kind: 'check'; readonly maxAbsDiff: number; readonly tolerance: number; readonly ok: boolean }
  | { readonly kind: 'run'; readonly ms: number; readonly gpuMs?: number }
  /** Could not run here at all (missing feature or package): not a failure of the backend. */
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'error'; readonly message: string };

export const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!;

/** taesd-web's createDecoder as a Runner: decode() (8-bit RGBA) is timed, decodeRaw() checked. */
export function decoderRunner(decoder: Decoder, latent: BenchLatent, scale: number, extra: Partial<Runner> = {}): Runner {
  const input = { data: latent.data, shape: [...latent.shape] };
  const threads = decoder.numThreads === null ? '' : ` (threads: ${decoder.numThreads || 'default'})`;
  return {
    note: `${decoder.backend}${threads}: ${decoder.backendReason}`,
    decode: () => decoder.decode(input, { scale }),
    raw: async () => (await decoder.decodeRaw(input, { scale })).data,
    destroy: () => decoder.destroy(),
    ...extra,
  };
}

/** Thrown by a Runner factory when the configuration cannot run on this machine (reported as skipped). */
export class Unavailable extends Error {}

/**
 * Creates the runner, decodes once cold, checks the output, then times decodes. Returns the raw
 * output (for a reference run), or null when it failed or was skipped (already emitted).
 */
export async function measure(create: () => Promise<Runner>, options: MeasureOptions, emit: (line: Line) => void): Promise<Float32Array | null> {
  let runner: Runner | null = null;
  try {
    const t0 = performance.now();
    try {
      runner = await create();
    } catch (e) {
      if (e instanceof Unavailable) {
        emit({ kind: 'skip', reason: e.message });
        return null;
      }
      throw e;
    }
    // The first decode is the checked one: cold start without paying a slow backend one more decode.
    const t1 = performance.now();
    const raw = await runner.raw();
    const firstMs = performance.now() - t1;
    emit({ kind: 'cold', createMs: t1 - t0, firstMs });
    if (runner.note) emit({ kind: 'note', note: runner.note });
    if (options.reference && options.tolerance !== null) {
      const diff = maxAbsDiff(raw, options.reference);
      const ok = diff <= options.tolerance;
      emit({ kind: 'check', maxAbsDiff: diff, tolerance: options.tolerance, ok });
      if (!ok) {
        emit({ kind: 'error', message: `output differs from the reference by ${diff.toExponential(2)} (> ${options.tolerance}); not timed` });
        return null;
      }
    }
    // A backend whose first decode alone outlasts the budget is timed once (per process; the rounds add more).
    const slow = firstMs > options.budgetMs;
    const minRuns = slow ? 1 : options.minRuns;
    // One untimed decode first: onnxruntime's second run still grows its memory arena (~2x slower at 64x64).
    if (!slow) await runner.decode();
    const start = performance.now();
    for (let n = 0; n < options.maxRuns && (n < minRuns || performance.now() - start < options.budgetMs); n++) {
      const t = performance.now();
      await runner.decode();
      const ms = performance.now() - t;
      const gpuMs = (await runner.gpuMs?.()) ?? null;
      emit({ kind: 'run', ms, ...(gpuMs !== null && { gpuMs }) });
    }
    return raw;
  } catch (e) {
    emit({ kind: 'error', message: errorText(e) });
    return null;
  } finally {
    runner?.destroy();
  }
}
