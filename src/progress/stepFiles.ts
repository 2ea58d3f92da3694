import type { VideoLayout } from './record.js';

/** One saved step's file, as `gather` takes it. */
export interface StepFile {
  readonly step: number;
  readonly name: string;
  readonly bytes: Uint8Array;
  /** A video step's layout (from progress.json's `step_videos`), when it is one. */
  readonly video?: VideoLayout;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The step index of `<prefix>_0007.jpeg` / `.jpg` / `.png` (4 or more digits), or null for any other name. */
export function parseStepFileName(name: string, prefix: string): number | null {
  const m = new RegExp(`^${escapeRegExp(prefix)}_(\\d{4,})\\.(?:jpeg|jpg|png)$`).exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * Names this library writes in a job folder with `prefix`, in any format: progress.json,
 * latest.*, `<prefix>_NNNN.*` (and a batch's `<prefix>_NNNN_bK.*`), `<prefix>_final.*`, and its
 * own temp files. What the fresh-job policy removes, and nothing else.
 */
export function isOwnFileName(name: string, prefix: string): boolean {
  if (name === 'progress.json' || /^latest\.(?:jpeg|jpg|png)$/.test(name)) return true;
  if (parseStepFileName(name, prefix) !== null) return true;
  if (new RegExp(`^${escapeRegExp(prefix)}_\\d{4,}_b\\d+\\.(?:jpeg|jpg|png)$`).test(name)) return true;
  if (new RegExp(`^${escapeRegExp(prefix)}_final\\.(?:jpeg|jpg|png)$`).test(name)) return true;
  return /^\.taesd-.+\.tmp$/.test(name);
}
