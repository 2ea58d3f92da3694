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
}

/** floor(100 * step / total), as the node computes `progress_percent`. */
export function progressPercent(step: number, total: number): number {
  return Math.floor((100 * step) / Math.max(total, 1));
}

/** progress.json's bytes: compact JSON, UTF-8. */
export function encodeRecord(record: ProgressRecord): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(record));
}
