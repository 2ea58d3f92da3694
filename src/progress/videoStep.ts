// A video step's artifact: an animated PNG (format png) or a contact sheet of every k-th frame
// (format jpeg), with the layout progress.json describes it by (record.ts VideoLayout).
import { fail } from '../errors.js';
import { encodeApng } from '../image/apng.js';
import { contactSheet } from '../image/contactSheet.js';
import { downscale } from '../image/downscale.js';
import { encodeImage, type ImageFormat } from '../image/encode.js';
import { checkImage, MAX_IMAGE_SIDE } from '../image/image.js';
import type { RgbaImage } from '../model/rgba.js';
import type { VideoLatentInput } from '../model/videoLatent.js';
import type { PreviewMadeWith, VideoLayout } from './record.js';

/** Most frames one video step may hold (a 20 s clip at 24 fps is 480). */
export const MAX_VIDEO_FRAMES = 4096;

/** A video step already decoded: its frames in order, all one size. */
export interface VideoFrames {
  readonly frames: readonly RgbaImage[];
  /** Full-rate video frames each of these stands for (default 1; a linear preview's is the model's time upscale). */
  readonly timeStride?: number;
  readonly madeWith?: PreviewMadeWith;
}

/** A video step as a latent `[1,C,T,h,w]` / `[C,T,h,w]`, decoded by the writer's `videoPreviewer`. */
export interface VideoLatentStep {
  readonly video: VideoLatentInput;
}

/** Turns a video latent into frames (a TAEHV decoder, the linear preview, or the cheap-first policy). */
export interface VideoPreviewer {
  preview(latent: VideoLatentInput): Promise<VideoFrames>;
}

/** Throws BAD_OPTION unless `v` holds 1..MAX_VIDEO_FRAMES well-formed frames of one size. */
export function checkVideoFrames(v: VideoFrames, what: string): void {
  const { frames } = v;
  if (!Array.isArray(frames) || frames.length === 0 || frames.length > MAX_VIDEO_FRAMES) fail('BAD_OPTION', `${what}: a video step needs 1..${MAX_VIDEO_FRAMES} frames, got ${Array.isArray(frames) ? frames.length : typeof frames}`);
  const first = frames[0]!;
  frames.forEach((f, i) => {
    checkImage(f, `${what} frame ${i}`);
    if (f.width !== first.width || f.height !== first.height) fail('BAD_OPTION', `${what}: frame ${i} is ${f.width}x${f.height}, frame 0 is ${first.width}x${first.height}`);
  });
  const stride = v.timeStride ?? 1;
  if (!(Number.isInteger(stride) && stride >= 1 && stride <= 64)) fail('BAD_OPTION', `${what}: timeStride must be an integer 1..64, got ${String(stride)}`);
}

export interface VideoEncodeOptions {
  readonly format: ImageFormat;
  readonly quality: number;
  readonly pngLevel: number;
  /** Frames per second of the full-rate video. */
  readonly fps: number;
  /** Most cells in a JPEG sheet; more frames are thinned to every k-th. */
  readonly sheetFrames: number;
  readonly maxSide: number | null;
}

/** The frames' file and its layout: the APNG of every frame, or the sheet of every k-th. */
export async function encodeVideoStep(video: VideoFrames, o: VideoEncodeOptions): Promise<{ bytes: Uint8Array; layout: VideoLayout }> {
  let frames = o.maxSide === null ? video.frames : video.frames.map((f) => downscale(f, o.maxSide!));
  const timeStride = video.timeStride ?? 1;
  const base = { source_frames: frames.length * timeStride, made_with: video.madeWith ?? null };
  if (o.format === 'png') {
    const { width, height } = frames[0]!;
    const delayMs = Math.min(65535, Math.max(1, Math.round((1000 * timeStride) / o.fps)));
    const bytes = encodeApng(frames, { delayMs, holdLastMs: 0, level: o.pngLevel });
    const layout: VideoLayout = { layout: 'animation', frame_count: frames.length, fps: o.fps / timeStride, frame_width: width, frame_height: height, columns: 1, rows: 1, frame_stride: timeStride, ...base };
    return { bytes, layout };
  }
  const k = Math.ceil(frames.length / o.sheetFrames);
  frames = frames.filter((_, i) => i % k === 0);
  const columns = Math.ceil(Math.sqrt(frames.length)), rows = Math.ceil(frames.length / columns);
  // Shrink the cells until the sheet fits the largest image side.
  const fit = Math.min(1, MAX_IMAGE_SIDE / (columns * frames[0]!.width), MAX_IMAGE_SIDE / (rows * frames[0]!.height));
  if (fit < 1) frames = frames.map((f) => downscale(f, Math.max(1, Math.floor(Math.max(f.width, f.height) * fit))));
  const { width, height } = frames[0]!;
  const sheet = contactSheet(frames, { columns, cellWidth: width, cellHeight: height, gap: 0 });
  const bytes = await encodeImage(sheet, { format: 'jpeg', quality: o.quality });
  const layout: VideoLayout = { layout: 'sheet', frame_count: frames.length, fps: o.fps / (timeStride * k), frame_width: width, frame_height: height, columns, rows, frame_stride: timeStride * k, ...base };
  return { bytes, layout };
}
