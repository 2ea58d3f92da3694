// Which raw decoder frames a TAEHV decode returns (upstream decode_video / _decode_h3_video /
// StreamingTAEHV), as a selector that takes raw frames in order and says which are final.
import type { FrameRuleKind } from './videoRegistry.js';

export interface FrameRule {
  /** Raw frames dropped at the start of each window (`t_upscale - 1`). */
  readonly trim: number;
  /** Raw frames per trim window (H3: five latent frames' worth); null: one window, the whole video. */
  readonly window: number | null;
  /** Output frames dropped from the end (H3: three latent frames' worth), after padding the last window with black frames. */
  readonly dropTail: number;
}

/**
 * The rule for `kind` at `timeUpscale` raw frames per latent frame. `latentFrames` is the video's
 * length where known (CogVideoX keeps every frame when it is even); a stream does not know it and,
 * as upstream's StreamingTAEHV, never trims CogVideoX.
 */
export function frameRule(kind: FrameRuleKind, timeUpscale: number, latentFrames: number | null): FrameRule {
  const trim = timeUpscale - 1;
  if (kind === 'h3') return { trim, window: 5 * timeUpscale, dropTail: 3 * timeUpscale };
  if (kind === 'cogvideox' && (latentFrames === null || latentFrames % 2 === 0)) return { trim: 0, window: null, dropTail: 0 };
  return { trim, window: null, dropTail: 0 };
}

/** Output frames for `latentFrames` latent frames. */
export function outputFrameCount(rule: FrameRule, latentFrames: number, timeUpscale: number): number {
  const raw = latentFrames * timeUpscale;
  if (rule.window === null) return Math.max(0, raw - rule.trim);
  const windows = Math.ceil(raw / rule.window);
  return Math.max(0, windows * (rule.window - rule.trim) - rule.dropTail);
}

/** Takes raw frames in order; returns those that are final. `black` makes a padding frame. */
export class FrameSelector<F> {
  private raw = 0;
  /** Kept frames not yet known to survive the tail drop. */
  private held: F[] = [];

  /** `drop`: frees a frame the rule does not keep (GPU textures). */
  constructor(private readonly rule: FrameRule, private readonly black: () => F, private readonly drop?: (frame: F) => void) {}

  private keeps(index: number): boolean {
    return (this.rule.window === null ? index : index % this.rule.window) >= this.rule.trim;
  }

  push(frames: readonly F[]): F[] {
    for (const f of frames) {
      if (this.keeps(this.raw++)) this.held.push(f);
      else this.drop?.(f);
    }
    return this.held.splice(0, Math.max(0, this.held.length - this.rule.dropTail));
  }

  /** The end of the video: pads the last window with black frames, drops the tail, returns what is left. */
  finish(): F[] {
    const { window } = this.rule;
    if (window !== null) for (let k = this.raw; k % window !== 0; k++) if (this.keeps(k)) this.held.push(this.black());
    this.raw = 0;
    const out = this.held.slice(0, Math.max(0, this.held.length - this.rule.dropTail));
    if (this.drop) this.held.slice(out.length).forEach(this.drop);
    this.held = [];
    return out;
  }
}
