// Node only: reads a job folder's saved steps back, for gather().
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRegularFile } from '../boundedRead.js';
import { fail, isTaesdError } from '../errors.js';
import { checkName } from './names.js';
import type { VideoLayout } from './record.js';
import { parseStepFileName, type StepFile } from './stepFiles.js';
import { videoLayout } from './videoLayout.js';

export interface JobFolder {
  /** As for FileSink (default: the current directory). */
  readonly root?: string;
  readonly jobId: string;
  /** Default `progress`. */
  readonly outputFolder?: string;
  /** Default `step`. */
  readonly filenamePrefix?: string;
}

/** Largest step file read: a 4096 x 4096 RGBA PNG (the decode limit) stored uncompressed is 64 MiB. */
export const MAX_STEP_FILE_BYTES = 80 << 20;
/** Most bytes of step files read from one job: gather() holds them all, and every decoded image. */
export const MAX_JOB_BYTES = 512 << 20;
/** Largest progress.json read for its `step_videos` (one with `image_base64` of a big PNG included). */
const MAX_RECORD_BYTES = 64 << 20;

/** Video layouts by step from the folder's progress.json (`step_videos`); empty when it has none or cannot be read. */
async function stepVideos(dir: string): Promise<Map<number, VideoLayout>> {
  const out = new Map<number, VideoLayout>();
  try {
    const bytes = await readRegularFile(join(dir, 'progress.json'), 'progress.json', { maxBytes: MAX_RECORD_BYTES, tooLarge: () => fail('IO', 'progress.json is too large', { reason: 'TOO_LARGE' }) });
    const record = JSON.parse(new TextDecoder().decode(bytes)) as { step_videos?: unknown };
    if (!Array.isArray(record.step_videos)) return out;
    for (const v of record.step_videos as { step?: unknown }[]) {
      const layout = videoLayout(v);
      if (layout && typeof v.step === 'number') out.set(v.step, layout);
    }
  } catch {
    // A folder the ComfyUI node wrote, or a torn or oversized progress.json: its steps are images.
  }
  return out;
}

/**
 * The `<prefix>_NNNN.(jpeg|jpg|png)` files of a job folder in step order, with their bytes and,
 * for video steps, their layout (progress.json's `step_videos`); works on folders the ComfyUI
 * node wrote too. Other files (latest.*, `_final`) are left out.
 * Only regular files are read (a FIFO or device planted under a step's name is IO), each within
 * MAX_STEP_FILE_BYTES and all within MAX_JOB_BYTES.
 */
export async function readJobSteps(job: JobFolder): Promise<StepFile[]> {
  const prefix = checkName('filenamePrefix', job.filenamePrefix ?? 'step');
  const dir = join(resolve(job.root ?? '.'), checkName('outputFolder', job.outputFolder ?? 'progress'), checkName('jobId', job.jobId));
  try {
    const out: StepFile[] = [];
    let total = 0;
    const videos = await stepVideos(dir);
    for (const name of await readdir(dir)) {
      const step = parseStepFileName(name, prefix);
      if (step === null) continue;
      const bytes = await readRegularFile(join(dir, name), 'step file', {
        maxBytes: Math.min(MAX_STEP_FILE_BYTES, MAX_JOB_BYTES - total),
        tooLarge: (size) => fail('IO', `step file ${name} in ${dir}: ${size} bytes is over the ${MAX_STEP_FILE_BYTES}-byte limit per step or the ${MAX_JOB_BYTES}-byte limit per job`, { reason: 'TOO_LARGE' }),
      });
      total += bytes.byteLength;
      const video = videos.get(step);
      out.push({ step, name, bytes, ...(video && { video }) });
    }
    return out.sort((a, b) => a.step - b.step);
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `cannot read job folder ${dir}`, { cause: e });
  }
}
