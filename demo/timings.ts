// Decode times, with each decoder's first decode at a size and scale kept apart: that one also
// compiles WebGPU pipelines and makes buffers, or plans an onnxruntime session's memory (and, at a
// new scale, starts its session), so it says little about the time per step.
import type { Decoder } from 'taesd-web';
import { ms } from './ui.js';

export class StepTimes {
  private readonly seen = new WeakMap<Decoder, Set<string>>();
  private warmup: number | null = null;
  private warm: number[] = [];

  /** Forgets the times (not which sizes each decoder has seen): a new run starts. */
  reset(): void {
    this.warmup = null;
    this.warm = [];
  }

  /** Records one decode; true when it was the decoder's first at this size and scale. */
  record(decoder: Decoder, key: string, t: number): boolean {
    let keys = this.seen.get(decoder);
    if (!keys) this.seen.set(decoder, (keys = new Set()));
    const first = !keys.has(key);
    keys.add(key);
    if (first) this.warmup = t;
    else this.warm.push(t);
    return first;
  }

  /** "first decode 3.2 s (…)" or a note that this run needed none. */
  warmupText(backend: string): string {
    if (this.warmup === null) return 'none this run (this decoder had already decoded this size)';
    const what = backend === 'webgpu' ? 'pipelines compiled, buffers made' : backend === 'linear' ? 'first call' : 'session memory planned';
    return `${ms(this.warmup)}, the first decode (${what})`;
  }

  /** "last 2.1 s, median 2.0 s of 7" over the warm decodes. */
  perStepText(): string {
    const n = this.warm.length;
    if (n === 0) return this.warmup === null ? '–' : 'after the first step';
    const sorted = [...this.warm].sort((a, b) => a - b);
    const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    return n === 1 ? ms(this.warm[0]!) : `${ms(this.warm.at(-1)!)} last, ${ms(median)} median of ${n}`;
  }
}
