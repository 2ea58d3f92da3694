import { fail } from '../errors.js';
import { toBase64 } from '../image/base64.js';
import { FORMAT_MIME } from '../image/encode.js';
import type { LatentDecoder } from '../model/decoderTypes.js';
import {
  finalFileName,
  latestFileName,
  type ProgressOptions,
  resolveOptions,
  type ResolvedProgressOptions,
  shouldSave,
  stepFileName,
} from './options.js';
import { encodeRecord, progressPercent, type ProgressRecord, type ProgressStatus, type StepVideo, type VideoLayout } from './record.js';
import type { Artifact, ArtifactKind, ProgressSink } from './sink.js';
import { checkStep, encodeStep, type EncodedStep, type StepInput } from './stepEncoder.js';
import type { VideoPreviewer } from './videoStep.js';

export type { StepInput } from './stepEncoder.js';

export interface ProgressWriterInit extends ProgressOptions {
  /** Where the files go: FileSink (Node), MemorySink, CallbackSink, ... */
  readonly sink: ProgressSink;
  /** Decodes latent steps; needed only when steps arrive as latents. */
  readonly decoder?: LatentDecoder;
  /** Turns video latent steps (`{ video }`) into frames; needed only for those (see cheapFirstPreviewer). */
  readonly videoPreviewer?: VideoPreviewer;
}

export interface ProgressSummary {
  readonly jobId: string;
  readonly savedSteps: readonly number[];
  readonly skippedSteps: readonly number[];
  /** `<prefix>_final.<ext>`, or null when no step was ever pushed. */
  readonly finalImage: string | null;
  /** The last step received, or null. */
  readonly lastStep: number | null;
}

interface Entry {
  readonly step: number;
  readonly input: StepInput;
}

type State = 'new' | 'opening' | 'running' | 'finishing' | 'done' | 'failed';

/** Absolute paths (POSIX or Windows) in a message, up to their last segment. */
const ABSOLUTE_PATH = /(^|[\s'"(=])(?:[A-Za-z]:)?[\\/](?:[^\\/\s'"]+[\\/])*([^\\/\s'"]+)/g;

/** An error as progress.json shows it to every poller: its message, absolute paths cut to `…/<last segment>`. */
function publicMessage(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).replace(ABSOLUTE_PATH, '$1…/$2');
}

/**
 * Turns a run's steps into a job folder a frontend polls (the ComfyUI "Save Intermediate Steps"
 * layout): `progress.json`, `latest.<ext>`, `<prefix>_NNNN.<ext>`, `<prefix>_final.<ext>`.
 *
 * Use: `await start()`, then `push(step)` per sampling step (returns at once), then
 * `await finish()`; on a failed run `await abort(error)`.
 *
 * Backpressure: one step is saved at a time (decode, encode, write). A step that passes the
 * filters and arrives while another is in flight waits in a single slot; a newer such step
 * replaces it, and the replaced one is listed in `skipped_steps` (never decoded). Steps the
 * filters leave out only advance progress.json and never displace a waiting step. Memory thus
 * stays at a few steps however fast they arrive; the last step is always decoded (by
 * `finish`). progress.json is rewritten after each save and whenever steps arrived since the
 * last write, so it follows every step, coalescing those that arrive during a write.
 *
 * Liveness: from `start` until the run ends, progress.json is rewritten with a fresh
 * `timestamp` whenever `heartbeatMs` passes without a write, so a poller can tell a dead
 * writer (see pollProgress's `staleAfterMs`) from a slow step.
 *
 * Inputs are held by reference until processed: do not modify a pushed latent or image.
 */
export class ProgressWriter {
  readonly options: ResolvedProgressOptions;
  private readonly sink: ProgressSink;
  private readonly decoders: { decoder: LatentDecoder | null; videoPreviewer: VideoPreviewer | null };
  private state: State = 'new';
  private failure: unknown = undefined;
  private received = -1;
  /** The newest step waiting to be saved (passed the filters), if any. */
  private pending: Entry | null = null;
  /** A step arrived since progress.json was last written. */
  private progressDirty = false;
  private last: Entry | null = null;
  private lastEncoded: { step: number; bytes: Uint8Array; video: VideoLayout | null } | null = null;
  private latestVideo: VideoLayout | null = null;
  private readonly stepVideos: StepVideo[] = [];
  private latestName: string | null = null;
  private latestStep: number | null = null;
  private latestBase64: string | null = null;
  private readonly saved: number[] = [];
  private readonly skipped: number[] = [];
  private worker: Promise<void> | null = null;
  private record: ProgressRecord | null = null;
  /** Sink writes, chained so that heartbeats never overlap the worker's writes. */
  private sinkQueue: Promise<unknown> = Promise.resolve();
  private sinkWrites = 0;
  private lastProgressAt = 0;
  private heartbeat: ReturnType<typeof setInterval> | null = null;

  /** Checks every option (UNSAFE_PATH for names, BAD_OPTION for the rest) before anything is written. */
  constructor(init: ProgressWriterInit) {
    this.options = resolveOptions(init);
    this.sink = init.sink;
    this.decoders = { decoder: init.decoder ?? null, videoPreviewer: init.videoPreviewer ?? null };
  }

  /** The last progress.json written, or null. */
  get lastRecord(): ProgressRecord | null {
    return this.record;
  }

  /**
   * Opens the sink (clearing an earlier run of this job; FileSink refuses a job another live
   * writer holds) and writes progress.json with status `starting`; from then on the heartbeat runs.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') fail('BAD_OPTION', `start() called while ${this.state}`);
    this.state = 'opening';
    const o = this.options;
    try {
      await this.sink.open({ jobId: o.jobId, outputFolder: o.outputFolder, filenamePrefix: o.filenamePrefix, format: o.format });
      await this.writeProgress('starting');
    } catch (e) {
      this.markFailed(e);
      await this.closeSink();
      throw e;
    }
    this.state = 'running';
    this.heartbeat = setInterval(() => this.beat(), o.heartbeatMs);
    // In Node, a pending heartbeat alone must not keep the process alive.
    (this.heartbeat as { unref?: () => void }).unref?.();
  }

  /**
   * Hands over step `step` (default: the previous step + 1, from 0); returns at once.
   * Steps must increase and lie in 0..totalSteps-1 (BAD_OPTION otherwise). Throws the run's
   * failure once processing has failed.
   */
  push(input: StepInput, step: number = this.received + 1): void {
    this.assertRunning('push');
    if (!Number.isInteger(step) || step <= this.received || step >= this.options.totalSteps)
      fail('BAD_OPTION', `step ${step} must be an integer above ${this.received} and below totalSteps ${this.options.totalSteps}`);
    checkStep(input, step, this.decoders);
    this.received = step;
    const entry = { step, input };
    this.last = entry;
    if (shouldSave(step, this.options)) {
      if (this.pending) this.skipped.push(this.pending.step);
      this.pending = entry;
    }
    this.progressDirty = true;
    this.kick();
  }

  /** Resolves when every step pushed so far is written or skipped; rejects with the run's failure. */
  async flush(): Promise<void> {
    await this.idle();
    if (this.state === 'failed') throw this.failure;
  }

  /**
   * Processes what is pending, writes `<prefix>_final.<ext>` and `latest.<ext>` from the last
   * step (decoding it if the filters skipped it), then progress.json with status `completed`,
   * `current_step` = `total_steps`, 100 %. Rejects with the run's failure if there was one.
   */
  async finish(): Promise<ProgressSummary> {
    this.assertRunning('finish');
    this.state = 'finishing';
    await this.idle();
    if (this.isFailed()) throw this.failure;
    try {
      const last = this.last;
      if (last) {
        const { bytes, video } = this.lastEncoded?.step === last.step ? this.lastEncoded : await this.encode(last.input).then((e) => ({ bytes: e.files[0]!, video: e.video }));
        const name = finalFileName(this.options);
        await this.writeImage(name, 'final', last.step, bytes);
        await this.writeImage(latestFileName(this.options), 'latest', last.step, bytes);
        this.setLatest(name, last.step, bytes, video);
      }
      this.stopHeartbeat();
      await this.writeProgress('completed');
    } catch (e) {
      await this.failWith(e);
      throw e;
    }
    this.state = 'done';
    await this.closeSink();
    return {
      jobId: this.options.jobId,
      savedSteps: [...this.saved],
      skippedSteps: [...this.skipped],
      finalImage: this.last ? finalFileName(this.options) : null,
      lastStep: this.last?.step ?? null,
    };
  }

  /**
   * Marks the run failed: waits for the step in flight, then writes progress.json with status
   * `error` (or `cancelled`, for a run stopped on purpose) and `error` = the message (absolute
   * paths cut to their last segment, no `image_base64`). Files already written stay. No-op after
   * finish() or a failure.
   */
  async abort(error: unknown, status: 'error' | 'cancelled' = 'error'): Promise<void> {
    if (this.state === 'done' || this.state === 'failed') return;
    const opened = this.state !== 'new' && this.state !== 'opening';
    this.markFailed(error);
    await this.idle();
    if (opened) await this.writeError(error, status);
  }

  private assertRunning(what: string): void {
    if (this.state === 'failed') throw this.failure;
    if (this.state !== 'running') fail('BAD_OPTION', `${what}() called while ${this.state}`);
  }

  private isFailed(): boolean {
    return this.state === 'failed';
  }

  private markFailed(e: unknown): boolean {
    if (this.state === 'failed') return false;
    this.state = 'failed';
    this.failure = e;
    this.pending = null;
    this.progressDirty = false;
    this.stopHeartbeat();
    return true;
  }

  private async failWith(e: unknown): Promise<void> {
    if (this.markFailed(e)) await this.writeError(e);
  }

  /** The run is over: the error record, then the sink is closed. */
  private async writeError(e: unknown, status: 'error' | 'cancelled' = 'error'): Promise<void> {
    try {
      await this.writeProgress(status, publicMessage(e));
    } catch {
      // The sink itself is failing; the caller gets `e` from finish()/flush()/push().
    }
    await this.closeSink();
  }

  private async closeSink(): Promise<void> {
    await this.sink.close?.().catch(() => undefined);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Rewrites progress.json (a fresh timestamp) when nothing was written for a heartbeat and no write is under way. */
  private beat(): void {
    if (this.sinkWrites > 0 || Date.now() - this.lastProgressAt < this.options.heartbeatMs) return;
    this.writeProgress(this.received < 0 ? 'starting' : 'generating').catch(() => undefined); // a failing sink fails the next real write
  }

  private async idle(): Promise<void> {
    while (this.worker) await this.worker;
  }

  private kick(): void {
    if (this.worker) return;
    this.worker = (async () => {
      await null;
      try {
        while ((this.pending || this.progressDirty) && !this.isFailed()) {
          const entry = this.pending;
          this.pending = null;
          if (entry) await this.save(entry);
          if (this.isFailed()) return;
          this.progressDirty = false;
          await this.writeProgress('generating');
        }
      } catch (e) {
        await this.failWith(e);
      }
    })().finally(() => {
      this.worker = null;
    });
  }

  /** The step's file(s), encoded: one, or with `batch: 'each'` one per item (item 0 first). */
  private encode(input: StepInput): Promise<EncodedStep> {
    return encodeStep(input, this.options, this.decoders);
  }

  private async save(entry: Entry): Promise<void> {
    const { files: [bytes, ...others], video } = await this.encode(entry.input);
    if (this.isFailed() || !bytes) return;
    for (const [i, item] of others.entries()) await this.writeImage(stepFileName(this.options, entry.step, i + 1), 'step', entry.step, item);
    const name = stepFileName(this.options, entry.step);
    await this.writeImage(name, 'step', entry.step, bytes);
    await this.writeImage(latestFileName(this.options), 'latest', entry.step, bytes);
    this.saved.push(entry.step);
    if (video) this.stepVideos.push({ step: entry.step, ...video });
    this.lastEncoded = { step: entry.step, bytes, video };
    this.setLatest(name, entry.step, bytes, video);
  }

  private setLatest(name: string, step: number, bytes: Uint8Array, video: VideoLayout | null): void {
    this.latestName = name;
    this.latestStep = step;
    this.latestVideo = video;
    this.latestBase64 = this.options.includeBase64 ? toBase64(bytes) : null;
  }

  private writeImage(name: string, kind: ArtifactKind, step: number, bytes: Uint8Array): Promise<void> {
    return this.toSink({ name, kind, step, contentType: FORMAT_MIME[this.options.format], bytes });
  }

  /** Hands one artifact to the sink after every earlier one (the sink never sees two writes at once). */
  private toSink(artifact: Artifact): Promise<void> {
    this.sinkWrites++;
    const written = this.sinkQueue.then(() => this.sink.write(artifact)).finally(() => this.sinkWrites--);
    this.sinkQueue = written.catch(() => undefined);
    return written;
  }

  private async writeProgress(status: ProgressStatus, error?: string): Promise<void> {
    const o = this.options;
    const current = status === 'completed' ? o.totalSteps : Math.max(0, this.received);
    const record: ProgressRecord = {
      job_id: o.jobId,
      status,
      current_step: current,
      total_steps: o.totalSteps,
      progress_percent: progressPercent(current, o.totalSteps),
      latest_image: this.latestName,
      timestamp: Date.now() / 1000,
      // An error record stays small: it must fit where the last record was, even on a full disk.
      ...(this.latestBase64 !== null && status !== 'error' && status !== 'cancelled' ? { image_base64: this.latestBase64 } : {}),
      ...(error !== undefined ? { error } : {}),
      latest_step: this.latestStep,
      saved_steps: [...this.saved],
      skipped_steps: [...this.skipped],
      ...(this.latestVideo && { video: this.latestVideo }),
      ...(this.stepVideos.length > 0 && { step_videos: [...this.stepVideos] }),
    };
    const artifact: Artifact = { name: 'progress.json', kind: 'progress', step: null, contentType: 'application/json', bytes: encodeRecord(record), record };
    await this.toSink(artifact);
    this.record = record;
    this.lastProgressAt = Date.now();
  }
}
