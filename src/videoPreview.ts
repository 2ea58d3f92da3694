// Cheap-first video previews: a per-step time budget decides what each step's preview is made
// with, from the linear preview (microseconds) up through TAEHV at lowered scale/timeScale to a
// full TAEHV decode, from the decode times it measures.
import { fail, isTaesdError } from './errors.js';
import type { LinearVideoDecoder } from './linearVideo.js';
import type { RgbaImage } from './model/rgba.js';
import type { VideoLatentInput } from './model/videoLatent.js';
import type { PreviewMadeWith } from './progress/record.js';
import type { VideoFrames, VideoPreviewer } from './progress/videoStep.js';
import type { VideoDecoder } from './videoDecoder.js';

/** One TAEHV setting; the ladder runs from the cheapest to the full decode. */
export interface TaehvRung {
  readonly scale: number;
  readonly timeScale: number;
}

/** Cheapest first; a rung the model cannot take (super decoders: scale 1 only) is left out. */
export const TAEHV_LADDER: readonly TaehvRung[] = [
  { scale: 1 / 8, timeScale: 1 / 4 }, { scale: 1 / 4, timeScale: 1 / 4 }, { scale: 1 / 2, timeScale: 1 / 4 },
  { scale: 1 / 2, timeScale: 1 / 2 }, { scale: 1, timeScale: 1 / 2 }, { scale: 1, timeScale: 1 },
];

/**
 * After the cheapest rung ran over, linear steps before it is tried again: 4, then twice as many
 * after each miss in a row, up to 64 (a first decode that compiled or warmed up is not final, and
 * a retry costs at most one slow step in that many); sooner once the budget fits its last time.
 */
const RETRY_AFTER = { first: 4, most: 64 } as const;

export interface CheapFirstOptions {
  /** Most wall time one step's preview may take, ms (> 0; Infinity: no fixed limit). */
  readonly budgetMs: number;
  /**
   * Also at most this share of a step, 0..1 (e.g. 0.1): the step is timed as the interval between
   * two preview() calls (sampling plus preview), so a slow sampler allows more and a fast one less.
   */
  readonly stepShare?: number;
  /** The linear preview: the first step's, and the fallback when no TAEHV setting fits. */
  readonly linear?: LinearVideoDecoder | null;
  /** The TAEHV decoder the policy climbs to when the budget allows. */
  readonly decoder?: VideoDecoder | null;
  /** Climb only to rungs whose estimated time is at most this share of the budget, 0.1..1 (default 0.8), so a step's noise does not flip it back and forth. */
  readonly headroom?: number;
}

/**
 * A VideoPreviewer that fits a time budget per step. The first preview is linear (when there is
 * one); then TAEHV at the cheapest rung; after each decode the measured time, scaled by the
 * rungs' relative cost (their multiply-adds, VideoDecoder.flops), picks the most expensive rung estimated to fit (up, when there is room;
 * down, when the last one ran over). When even the cheapest rung ran over, the previews go
 * linear and TAEHV is tried again (see RETRY_AFTER). Each preview says what made it (`madeWith`),
 * which ProgressWriter puts in progress.json.
 */
export class CheapFirstPreviewer implements VideoPreviewer {
  readonly budgetMs: number;
  readonly rungs: readonly TaehvRung[];
  /** What each preview so far was made with, in order. */
  readonly history: PreviewMadeWith[] = [];
  private readonly headroom: number;
  /** The next rung: -1 is linear. */
  private next: number;
  /** The cheapest rung's estimated time when it last ran over; null while TAEHV fits. */
  private missedMs: number | null = null;
  /** Linear steps left before the retry, and how many the next miss waits. */
  private linearLeft = 0;
  private wait: number = RETRY_AFTER.first;
  private lastCallAt: number | null = null;
  private stepMs = Infinity;
  /** Each rung's multiply-adds (any latent size: they scale alike), from the decoder's op list. */
  private readonly costs: readonly number[];

  constructor(private readonly options: CheapFirstOptions) {
    const { budgetMs, linear = null, decoder = null } = options;
    if (!(typeof budgetMs === 'number' && budgetMs > 0)) fail('BAD_OPTION', `budgetMs must be a positive number (Infinity: no limit), got ${String(budgetMs)}`);
    if (!linear && !decoder) fail('BAD_OPTION', 'a cheap-first previewer needs a linear decoder, a TAEHV decoder, or both');
    if (options.stepShare !== undefined && !(options.stepShare > 0 && options.stepShare <= 1)) fail('BAD_OPTION', `stepShare must be in (0, 1], got ${String(options.stepShare)}`);
    this.headroom = options.headroom ?? 0.8;
    if (!(this.headroom >= 0.1 && this.headroom <= 1)) fail('BAD_OPTION', `headroom must be 0.1..1, got ${String(options.headroom)}`);
    this.budgetMs = budgetMs;
    this.rungs = decoder ? TAEHV_LADDER.filter((r) => fits(decoder, r)) : [];
    this.costs = this.rungs.map((r) => decoder!.flops(1, 1, 1, r));
    this.next = linear ? -1 : 0;
  }

  async preview(latent: VideoLatentInput): Promise<VideoFrames> {
    const { linear, decoder } = this.options;
    const at = this.next, rung = at >= 0 ? this.rungs[at]! : null;
    const started = performance.now();
    if (this.lastCallAt !== null) this.stepMs = started - this.lastCallAt;
    this.lastCallAt = started;
    let frames: RgbaImage[];
    let madeWith: Omit<PreviewMadeWith, 'decode_ms'>;
    let timeStride: number;
    if (rung && decoder) {
      frames = await decoder.decodeVideo(latent, { scale: rung.scale, timeScale: rung.timeScale });
      madeWith = { decoder: decoder.model.id, scale: rung.scale, time_scale: rung.timeScale };
      timeStride = Math.round(1 / rung.timeScale);
    } else {
      frames = await linear!.decodeVideo(latent);
      madeWith = { decoder: 'linear', scale: 1, time_scale: 1 };
      timeStride = linear!.timeStride;
    }
    const ms = performance.now() - started;
    const made = { ...madeWith, decode_ms: Math.round(ms * 1000) / 1000 };
    this.history.push(made);
    this.choose(at, ms);
    return { frames, timeStride, madeWith: made };
  }

  /** The budget now: budgetMs, or less where stepShare of the last measured step is less. */
  get currentBudgetMs(): number {
    return Math.min(this.budgetMs, (this.options.stepShare ?? Infinity) * this.stepMs);
  }

  /** The next step's rung, from this one's (rung `at`, -1 linear) measured time. */
  private choose(at: number, ms: number): void {
    if (this.rungs.length === 0) return;
    if (at < 0) {
      // After a linear preview: the cheapest TAEHV rung, unless it ran over and its retry is not due.
      this.linearLeft--;
      const due = this.missedMs === null || this.linearLeft <= 0 || this.missedMs <= this.currentBudgetMs * this.headroom;
      this.next = due ? 0 : -1;
      return;
    }
    const cost = this.costs[at]!;
    const estimate = (i: number) => (ms * this.costs[i]!) / cost;
    const budget = this.currentBudgetMs;
    let best = -1;
    this.costs.forEach((c, i) => {
      const limit = c > cost ? budget * this.headroom : budget;
      if (estimate(i) <= limit) best = i;
    });
    if (best >= 0) {
      this.missedMs = null;
      this.wait = RETRY_AFTER.first;
    } else if (this.options.linear) {
      this.missedMs = estimate(0);
      this.linearLeft = this.wait;
      this.wait = Math.min(2 * this.wait, RETRY_AFTER.most);
    }
    this.next = best < 0 ? (this.options.linear ? -1 : 0) : best;
  }
}

function fits(decoder: VideoDecoder, r: TaehvRung): boolean {
  try {
    decoder.outputFrames(1, r);
    return true;
  } catch (e) {
    if (isTaesdError(e, 'BAD_OPTION')) return false;
    throw e;
  }
}

/** See CheapFirstPreviewer. */
export function cheapFirstPreviewer(options: CheapFirstOptions): CheapFirstPreviewer {
  return new CheapFirstPreviewer(options);
}
