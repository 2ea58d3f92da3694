// One decoder surface for every backend. A backend prepares a call's input (at call time, so a
// bad latent fails in call order and the caller may reuse its arrays at once), decodes a prepared
// batch to raw floats (and, on the GPU, to RGBA), frees itself, and declares its capabilities;
// this class derives the rest: decode and decodeRaw, the batch forms, the serial queue, the
// destroyed and lost checks, what destroy() does to decodes in flight, and the output check.
import { fail, isTaesdError, TaesdError } from '../errors.js';
import type { AnyLatentInput, BackendDecoder, BackendKind, DecodeOptions, DecoderCapabilities } from './decoderTypes.js';
import { expectSingle } from './latent.js';
import type { ModelSpec } from './registry.js';
import type { RawImage, RgbaImage } from './rgba.js';
import { checkOutput, countNonFinite, rawToRgba } from './rgba.js';

/** RGBA images and how many of the values they came from were NaN or +-Infinity. */
export interface CheckedRgba {
  readonly images: RgbaImage[];
  readonly nonFinite: number;
}

/**
 * A `LatentDecoder` from a backend's batch decode of its prepared input `P`. Decodes run one at a
 * time in call order. After destroy(), new and queued calls reject with DESTROYED, and so does a
 * decode already running that then fails (its device or session going away under it is the
 * destroy, not a device loss); one that completes resolves. What the backend holds is freed once
 * nothing runs. A device lost before that wins over DESTROYED (DEVICE_LOST), so a recovering caller
 * decodes the step again elsewhere.
 */
export abstract class DecoderSurface<P> implements BackendDecoder {
  abstract readonly model: ModelSpec;
  abstract readonly backend: BackendKind;
  abstract readonly capabilities: DecoderCapabilities;
  private tail: Promise<unknown> = Promise.resolve();
  private running = 0;
  private destroyed = false;
  private released = false;

  abstract outputSize(h: number, w: number, options?: DecodeOptions): { width: number; height: number };
  /** Checks and prepares one call's latent(s) and options; runs synchronously at call time. */
  protected abstract prepare(latent: AnyLatentInput, options: DecodeOptions | undefined): P;
  /** The raw outputs of a prepared batch, decoded in the call's turn. */
  protected abstract rawBatch(input: P): Promise<RawImage[]>;
  /** Frees what the backend holds: once, when nothing runs any more after destroy(). */
  protected abstract release(): void;

  /** RGBA outputs of a prepared batch; by default from the raw ones (the WebGPU backend converts on the GPU). */
  protected async rgbaBatch(input: P): Promise<CheckedRgba> {
    const raws = await this.rawBatch(input);
    return { images: raws.map(rawToRgba), nonFinite: countNonFinite(raws) };
  }

  /** Why the backend can no longer decode (its device was lost), or null. */
  protected lostReason(): string | null {
    return null;
  }

  async decode(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage> {
    expectSingle(latent);
    return (await this.decodeBatch(latent, options))[0]!;
  }

  async decodeRaw(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage> {
    expectSingle(latent);
    return (await this.decodeRawBatch(latent, options))[0]!;
  }

  decodeBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RgbaImage[]> {
    return this.queued(latent, options, async (input) => {
      const { images, nonFinite } = await this.rgbaBatch(input);
      this.checkOutput(nonFinite);
      return images;
    });
  }

  decodeRawBatch(latent: AnyLatentInput, options?: DecodeOptions): Promise<RawImage[]> {
    return this.queued(latent, options, async (input) => {
      const raws = await this.rawBatch(input);
      this.checkOutput(countNonFinite(raws));
      return raws;
    });
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.running === 0) this.free();
  }

  /** OUTPUT_NON_FINITE naming this decoder when `bad` values were not finite. */
  protected checkOutput(bad: number): void {
    checkOutput(bad, this.backend, this.model.id);
  }

  /** Prepares `latent` now and runs `task` on it after every earlier call has settled. */
  protected queued<T>(latent: AnyLatentInput, options: DecodeOptions | undefined, task: (input: P) => Promise<T>): Promise<T> {
    let input: P;
    try {
      this.checkUsable();
      input = this.prepare(latent, options);
    } catch (e) {
      return Promise.reject(e);
    }
    this.running++;
    const result = this.tail.then(() => {
      this.checkUsable();
      return task(input);
    }).catch((e: unknown) => {
      throw this.destroyed && this.lostReason() === null && !isTaesdError(e, 'DESTROYED') ? this.gone(e) : e;
    }).finally(() => {
      if (--this.running === 0 && this.destroyed) this.free();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  private checkUsable(): void {
    const lost = this.lostReason();
    // Lost before destroyed: a decode queued behind a device loss must be told to recover.
    if (lost !== null) fail('DEVICE_LOST', `WebGPU device lost: ${lost}`);
    if (this.destroyed) throw this.gone();
  }

  private gone(cause?: unknown): TaesdError {
    return new TaesdError('DESTROYED', `the ${this.model.id} ${this.backend} decoder was destroyed`, cause === undefined ? undefined : { cause });
  }

  private free(): void {
    if (this.released) return;
    this.released = true;
    this.release();
  }
}
