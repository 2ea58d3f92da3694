// Device-loss recovery: a decode that fails with DEVICE_LOST is run again on a replacement
// backend, which a policy function makes; decodes in flight together share one replacement.
import { fail, isTaesdError } from '../errors.js';
import type { BackendKind, BackendDecoder } from '../model/decoderTypes.js';

/** Emitted when the decoder moves to another backend or device (device loss), with why. */
export interface BackendChange {
  readonly from: BackendKind;
  readonly to: BackendKind;
  readonly reason: string;
}

/** Makes the backend that replaces a lost one; null when there is nothing to recover to. */
export type RecoveryPolicy = (lost: BackendDecoder, why: string) => Promise<{ decoder: BackendDecoder; reason: string }> | null;

export class Recovering {
  private recovery: Promise<void> | null = null;
  private readonly listeners = new Set<(change: BackendChange) => void>();
  private destroyed = false;

  constructor(
    private current: BackendDecoder,
    private why: string,
    private readonly policy: RecoveryPolicy,
  ) {}

  get decoder(): BackendDecoder {
    return this.current;
  }

  /** Why the current backend was chosen (or changed to). */
  get reason(): string {
    return this.why;
  }

  onChange(listener: (change: BackendChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `fn` on the current backend; after a device loss, once more on its replacement. */
  async run<T>(fn: (d: BackendDecoder) => Promise<T>): Promise<T> {
    if (this.destroyed) fail('DESTROYED', 'decoder was destroyed');
    const used = this.current;
    try {
      return await fn(used);
    } catch (e) {
      if (!isTaesdError(e, 'DEVICE_LOST') || this.destroyed) throw e;
      if (this.current === used) this.recovery ??= this.replace(used, e).finally(() => { this.recovery = null; });
      await this.recovery;
      return fn(this.current);
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.current.destroy();
  }

  private async replace(lost: BackendDecoder, error: Error): Promise<void> {
    const next = this.policy(lost, error.message);
    if (!next) throw error;
    lost.destroy();
    const { decoder, reason } = await next;
    const change = { from: lost.backend, to: decoder.backend, reason };
    this.current = decoder;
    this.why = reason;
    // destroy() ran while we were recovering: free what was just made.
    if (this.destroyed) decoder.destroy();
    else for (const l of this.listeners) l(change);
  }
}
