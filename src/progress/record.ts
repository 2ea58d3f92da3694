/**
 * The `status` of a progress.json, as the ComfyUI node writes it (plus `completed` and `error`, which
 * it never reaches, and `cancelled`: the run was stopped, e.g. `taesd-web progress` got SIGINT).
 */
export type ProgressStatus = 'starting' | 'generating' | 'completed' | 'error' | 'cancelled';

/**
 * A progress.json, field for field as ComfyUI-SaveIntermediates writes it; the fields after
 * `image_base64` are extras this library adds (a client may ignore them).
 */
export interface ProgressRecord {
  readonly job_id: string;
  readonly status: ProgressStatus;
  /** 0-based index of the latest step received; equals `total_steps` once completed. */
  readonly current_step: number;
  readonly total_steps: number;
  /** floor(100 * current_step / total_steps). */
  readonly progress_percent: number;
  /** File name (relative to the job folder) of the latest saved image; null before the first. */
  readonly latest_image: string | null;
  /** Unix time, seconds with fraction. */
  readonly timestamp: number;
  /** Raw base64 (no `data:` prefix) of `latest_image`'s bytes; only with `includeBase64`. */
  readonly image_base64?: string;
  /** The failure, when `status` is `error`; why, when `cancelled`. */
  readonly error?: string;
  /** Step index of `latest_image` (`total_steps` for the final image); null before the first. */
  readonly latest_step?: number | null;
  /** Steps whose files were written, ascending. */
  readonly saved_steps?: readonly number[];
  /** Steps that passed the filters but were superseded by a newer step before they could be decoded. */
  readonly skipped_steps?: readonly number[];
  /** When `latest_image` is a video step's: how to play it (absent for images). */
  readonly video?: VideoLayout;
  /** Each saved video step's layout and how it was made, ascending by step (absent when none). */
  readonly step_videos?: readonly StepVideo[];
}

/** What the preview was made with (the cheap-first policy changes it from step to step). */
export interface PreviewMadeWith {
  /** `linear`, or the TAEHV model id (e.g. `taew2_1`). */
  readonly decoder: string;
  /** Space scale of the decode: 1, 1/2, 1/4, 1/8 (linear: 1). */
  readonly scale: number;
  /** Time scale: 1, 1/2, 1/4, 1/8 of the frames (linear: 1 frame per latent frame, see `frame_stride`). */
  readonly time_scale: number;
  /** Wall time of the decode, ms. */
  readonly decode_ms: number;
}

/**
 * How a video step's file holds its frames. `animation` (PNG): an animated PNG, one frame per
 * frame, each shown 1/fps s (viewers without APNG show frame 0). `sheet` (JPEG): a grid of
 * `columns` x `rows` cells of `frame_width` x `frame_height`, no gaps, left to right then top
 * to bottom, the last row possibly short; an image-only client shows the whole sheet.
 */
export interface VideoLayout {
  readonly layout: 'animation' | 'sheet';
  /** Frames in the file (animation frames or sheet cells). */
  readonly frame_count: number;
  /** Playback rate of these frames, frames per second: the video's fps / `frame_stride`, so they play in real time. */
  readonly fps: number;
  readonly frame_width: number;
  readonly frame_height: number;
  /** Grid of a sheet; 1 x 1 for an animation. */
  readonly columns: number;
  readonly rows: number;
  /** Frame k of the file is frame k * frame_stride of the full-rate video. */
  readonly frame_stride: number;
  /** Frames of the full-rate video the preview stands for. */
  readonly source_frames: number;
  readonly made_with: PreviewMadeWith | null;
}

/** A saved step's video layout. */
export interface StepVideo extends VideoLayout {
  readonly step: number;
}

/** floor(100 * step / total), as the node computes `progress_percent`. */
export function progressPercent(step: number, total: number): number {
  return Math.floor((100 * step) / Math.max(total, 1));
}

/** progress.json's bytes: compact JSON, UTF-8. */
export function encodeRecord(record: ProgressRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}
