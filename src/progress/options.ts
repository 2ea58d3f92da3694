import { fail } from '../errors.js';
import { checkFormat, FORMAT_EXTENSION, type ImageFormat } from '../image/encode.js';
import { checkQuality } from '../image/jpeg.js';
import { checkLevel } from '../image/png.js';
import { MAX_IMAGE_SIDE } from '../image/image.js';
import { isScale, MAX_BATCH } from '../model/latent.js';
import { checkName, MAX_NAME_LENGTH } from './names.js';

/** Most steps a job may have. */
export const MAX_TOTAL_STEPS = 100_000;

/** Longest heartbeat: a FileSink lock unrefreshed for 60 s (LOCK_STALE_MS) is taken for a dead writer's, so six beats fit in it. */
export const MAX_HEARTBEAT_MS = 10_000;

/** What a progress job writes and which steps it keeps; the ComfyUI node's options, camel-cased. */
export interface ProgressOptions {
  /** Names the job folder `<outputFolder>/<jobId>`; a safe name (see checkName). */
  readonly jobId: string;
  /** Steps the run has, 1..100000; `progress_percent` is relative to it. */
  readonly totalSteps: number;
  /** Folder under the root holding job folders (default `progress`). */
  readonly outputFolder?: string;
  /** Step files are `<prefix>_0000.<ext>` (default `step`). */
  readonly filenamePrefix?: string;
  /** `jpeg` (default) or `png`; files end in `.jpeg` / `.png`, as the node names them. */
  readonly format?: ImageFormat;
  /** JPEG quality 1..100 (default 85). */
  readonly quality?: number;
  /** PNG zlib level 0..9 (default 3). */
  readonly pngLevel?: number;
  /** Put the latest image's base64 in every progress.json (default false; ~1.37x the image size each write). */
  readonly includeBase64?: boolean;
  /** Save every Nth step from `startStep`, 1..100000 (default 1: every step). */
  readonly saveEveryN?: number;
  /** First step to save, >= 0 (default 0). */
  readonly startStep?: number;
  /** Last step to save, >= startStep (default: the last step); may exceed totalSteps - 1, as the node's 999 does. */
  readonly endStep?: number;
  /** Downscale saved images so the longer side is at most this, 1..16384 (default: full size). */
  readonly maxSide?: number;
  /**
   * While the run is open, progress.json is rewritten with a fresh `timestamp` whenever this
   * many ms pass without a write (a slow decode, a slow sampler), so a poller can tell a dead
   * writer from a slow step. 100..10000 (default 2000); each beat is one small write.
   */
  readonly heartbeatMs?: number;
  /** Decode latent steps at this size relative to a full decode: 1 (default), 1/2, 1/4, 1/8 (see DecodeOptions.scale). Smaller files, sooner. */
  readonly scale?: number;
  /**
   * What a step that is a batch of latents (`[N,C,h,w]`) saves: `'first'` (default) the first
   * item, as one image per step; `'grid'` all items in one image per step (a grid of full-size
   * cells); `'each'` every item, item 0 as `<prefix>_NNNN.<ext>` and item k as `<prefix>_NNNN_bk.<ext>`.
   * `latest`, `_final` and `latest_image` follow item 0 (or the grid).
   */
  readonly batch?: BatchMode;
  /** Video steps: frames per second of the full-rate video, 1..240 (default 16, Wan's); sets the APNG's frame delay. */
  readonly fps?: number;
  /** Video steps as JPEG: most frames in the contact sheet, 1..256 (default 16); longer videos show every k-th frame. */
  readonly sheetFrames?: number;
}

export type BatchMode = 'first' | 'grid' | 'each';

/** The batch modes, in the order the CLI lists them. */
export const BATCH_MODES: readonly BatchMode[] = ['first', 'grid', 'each'];

/** Whether `batch` is a BatchMode: the one test resolveOptions and the CLI's `--batch` share. */
export function isBatchMode(batch: unknown): batch is BatchMode {
  return (BATCH_MODES as readonly unknown[]).includes(batch);
}

export interface ResolvedProgressOptions {
  readonly jobId: string;
  readonly totalSteps: number;
  readonly outputFolder: string;
  readonly filenamePrefix: string;
  readonly format: ImageFormat;
  readonly quality: number;
  readonly pngLevel: number;
  readonly includeBase64: boolean;
  readonly saveEveryN: number;
  readonly startStep: number;
  readonly endStep: number;
  readonly maxSide: number | null;
  readonly heartbeatMs: number;
  readonly scale: number;
  readonly batch: BatchMode;
  readonly fps: number;
  readonly sheetFrames: number;
}

function int(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) fail('BAD_OPTION', `${name} must be an integer ${min}..${max}, got ${value}`);
  return value;
}

/**
 * Fills defaults and checks every option: names throw UNSAFE_PATH (also when the longest file
 * name the prefix will make, `<prefix>_final.jpeg` or the last step's, would pass MAX_NAME_LENGTH),
 * other values BAD_OPTION.
 */
export function resolveOptions(o: ProgressOptions): ResolvedProgressOptions {
  const totalSteps = int('totalSteps', o.totalSteps, 1, MAX_TOTAL_STEPS);
  const startStep = int('startStep', o.startStep ?? 0, 0, MAX_TOTAL_STEPS);
  const filenamePrefix = checkName('filenamePrefix', o.filenamePrefix ?? 'step');
  const format = checkFormat(o.format ?? 'jpeg');
  const batch = o.batch ?? 'first';
  if (!isBatchMode(batch)) fail('BAD_OPTION', `batch must be 'first', 'grid' or 'each', got ${String(batch)}`);
  const scale = o.scale ?? 1;
  if (!isScale(scale)) fail('BAD_OPTION', `scale must be 1, 1/2, 1/4, 1/8, ..., got ${String(scale)}`);
  const lastStep = stepFileName({ filenamePrefix, format }, totalSteps - 1, batch === 'each' ? MAX_BATCH - 1 : 0);
  const longest = [lastStep, finalFileName({ filenamePrefix, format })].sort((a, b) => b.length - a.length)[0]!;
  if (longest.length > MAX_NAME_LENGTH)
    fail('UNSAFE_PATH', `filenamePrefix is ${filenamePrefix.length} characters long: file names such as ${longest} (${longest.length}) would pass the ${MAX_NAME_LENGTH}-character limit`, { reason: 'TOO_LARGE' });
  return {
    jobId: checkName('jobId', o.jobId),
    totalSteps,
    outputFolder: checkName('outputFolder', o.outputFolder ?? 'progress'),
    filenamePrefix,
    format,
    quality: checkQuality(o.quality ?? 85),
    pngLevel: checkLevel(o.pngLevel ?? 3),
    includeBase64: o.includeBase64 ?? false,
    saveEveryN: int('saveEveryN', o.saveEveryN ?? 1, 1, MAX_TOTAL_STEPS),
    startStep,
    endStep: o.endStep === undefined ? Math.max(totalSteps - 1, startStep) : int('endStep', o.endStep, startStep, Number.MAX_SAFE_INTEGER),
    maxSide: o.maxSide === undefined ? null : int('maxSide', o.maxSide, 1, MAX_IMAGE_SIDE),
    heartbeatMs: int('heartbeatMs', o.heartbeatMs ?? 2000, 100, MAX_HEARTBEAT_MS),
    scale,
    batch,
    fps: fpsOption(o.fps),
    sheetFrames: int('sheetFrames', o.sheetFrames ?? 16, 1, 256),
  };
}

function fpsOption(fps = 16): number {
  if (!(typeof fps === 'number' && fps >= 1 && fps <= 240)) fail('BAD_OPTION', `fps must be a number 1..240, got ${String(fps)}`);
  return fps;
}

/** The node's filter: `startStep <= step <= endStep` and `(step - startStep) % saveEveryN == 0`. */
export function shouldSave(step: number, o: ResolvedProgressOptions): boolean {
  return step >= o.startStep && step <= o.endStep && (step - o.startStep) % o.saveEveryN === 0;
}

/** `<prefix>_0007.<ext>`: 4-digit zero-padded (more digits past 9999, like Python's `:04d`); batch item k > 0: `<prefix>_0007_bk.<ext>`. */
export function stepFileName(o: Pick<ResolvedProgressOptions, 'filenamePrefix' | 'format'>, step: number, item = 0): string {
  return `${o.filenamePrefix}_${String(step).padStart(4, '0')}${item ? `_b${item}` : ''}.${FORMAT_EXTENSION[o.format]}`;
}

/** `<prefix>_final.<ext>`. */
export function finalFileName(o: Pick<ResolvedProgressOptions, 'filenamePrefix' | 'format'>): string {
  return `${o.filenamePrefix}_final.${FORMAT_EXTENSION[o.format]}`;
}

/** `latest.<ext>`. */
export function latestFileName(o: Pick<ResolvedProgressOptions, 'format'>): string {
  return `latest.${FORMAT_EXTENSION[o.format]}`;
}
