// Submitting to one device and reading back, with the two things every call needs: error scopes
// around this library's own GPU calls, and the device-loss watch that turns them into the error a
// caller can act on (DEVICE_LOST, GPU_OUT_OF_MEMORY, or INTERNAL for our own bug).
import { fail } from '../errors.js';

/** What a pair of popped error scopes held. */
type ScopeErrors = readonly [oom: GPUError | null, invalid: GPUError | null];

export class GpuSubmitter {
  private lost: string | null = null;

  constructor(readonly device: GPUDevice) {
    void device.lost.then((info) => { this.lost = info.message || info.reason || 'unknown reason'; });
  }

  /** Why the device was lost, or null while it lives. */
  get lostReason(): string | null {
    return this.lost;
  }

  /**
   * Runs `make` (synchronous: the scopes then hold only this library's calls) inside out-of-memory
   * and validation scopes; on an error `undo` frees what it made, and the error is thrown, naming `what`.
   */
  async scoped<T>(what: string, make: () => T, undo: () => void = () => undefined): Promise<T> {
    const { device } = this;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    let made: { value: T } | null = null, failure: unknown = null;
    try {
      made = { value: make() };
    } catch (e) {
      failure = e;
    }
    const scopes = Promise.all([device.popErrorScope(), device.popErrorScope()]);
    const errors = await scopes.catch(() => [null, null] as const);
    if (failure || errors[0] || errors[1]) {
      undo();
      if (failure) throw failure;
      this.check(errors, what);
    }
    return made!.value;
  }

  /** Submits `encoder` inside error scopes, then awaits `after` (a map, or the queue's completion). */
  async submit(encoder: GPUCommandEncoder, after: () => Promise<void>): Promise<void> {
    const { device } = this;
    device.pushErrorScope('validation');
    device.pushErrorScope('out-of-memory');
    device.queue.submit([encoder.finish()]);
    const scopes = Promise.all([device.popErrorScope(), device.popErrorScope()]);
    scopes.catch(() => undefined); // awaited below; a lost device rejects it before then
    let errors: ScopeErrors;
    try {
      await after();
      errors = await scopes;
    } catch (e) {
      // A lost device fails the map (or the error scopes) first and resolves `lost` a moment later.
      if (await this.isLost()) fail('DEVICE_LOST', `WebGPU device lost during decode: ${this.lost}`, { cause: e });
      fail('IO', `WebGPU decode failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    this.check(errors, 'the decode');
  }

  /** Submits `encoder` and resolves when the GPU has finished it (backpressure for a sampler loop). */
  async submitAndWait(encoder: GPUCommandEncoder): Promise<void> {
    await this.submit(encoder, async () => {
      await this.device.queue.onSubmittedWorkDone();
      // On a lost device the work "completes" and the scopes pop clean; `lost` resolves next.
      await this.isLost(0);
    });
  }

  /**
   * Copies `bytes` of `src` from `offset` into `staging` (MAP_READ), submits, and returns a copy of
   * them: into `into` from its start where given (one copy fewer for large reads), else a new buffer.
   */
  async readback(encoder: GPUCommandEncoder, staging: GPUBuffer, parts: readonly { src: GPUBuffer; offset: number; bytes: number }[], into?: Uint8Array): Promise<ArrayBuffer> {
    let at = 0;
    for (const { src, offset, bytes } of parts) {
      encoder.copyBufferToBuffer(src, offset, staging, at, bytes);
      at += bytes;
    }
    let out!: ArrayBuffer;
    await this.submit(encoder, async () => {
      await staging.mapAsync(GPUMapMode.READ, 0, at);
      const mapped = staging.getMappedRange(0, at);
      if (into) into.set(new Uint8Array(mapped));
      out = into ? into.buffer as ArrayBuffer : mapped.slice(0);
      staging.unmap();
    });
    return out;
  }

  /** Turns popped error scopes into the error a caller can act on: lost device, out of memory, or our bug. */
  private check([oom, invalid]: ScopeErrors, what: string): void {
    if (this.lost !== null) fail('DEVICE_LOST', `WebGPU device lost during ${what}: ${this.lost}`);
    if (oom) fail('GPU_OUT_OF_MEMORY', `GPU out of memory in ${what}: ${oom.message}`);
    if (invalid) fail('INTERNAL', `WebGPU rejected ${what}: ${invalid.message}`);
  }

  /** Whether the device is lost, waiting up to `waitMs` for `device.lost` to resolve. */
  private async isLost(waitMs = 200): Promise<boolean> {
    if (this.lost === null) await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, waitMs))]);
    return this.lost !== null;
  }
}
