// Node only: reads a job folder's saved steps back, for gather().
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';
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

/** Video layouts by step from the folder's progress.json (`step_videos`); empty when it has none or cannot be read. */
async function stepVideos(dir: string): Promise<Map<number, VideoLayout>> {
  const out = new Map<number, VideoLayout>();
  try {
    const record = JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8')) as { step_videos?: unknown };
    if (!Array.isArray(record.step_videos)) return out;
    for (const v of record.step_videos as { step?: unknown }[]) {
      const layout = videoLayout(v);
      if (layout && typeof v.step === 'number') out.set(v.step, layout);
    }
  } catch {
    // A folder the ComfyUI node wrote, or a torn progress.json: its steps are images.
  }
  return out;
}

/**
 * The `<prefix>_NNNN.(jpeg|jpg|png)` files of a job folder in step order, with their bytes and,
 * for video steps, their layout (progress.json's `step_videos`); works on folders the ComfyUI
 * node wrote too. Other files (latest.*, `_final`) are left out.
 */
export async function readJobSteps(job: JobFolder): Promise<StepFile[]> {
  const prefix = checkName('filenamePrefix', job.filenamePrefix ?? 'step');
  const dir = join(resolve(job.root ?? '.'), checkName('outputFolder', job.outputFolder ?? 'progress'), checkName('jobId', job.jobId));
  try {
    const out: StepFile[] = [];
    const videos = await stepVideos(dir);
    for (const name of await readdir(dir)) {
      const step = parseStepFileName(name, prefix);
      const video = step === null ? undefined : videos.get(step);
      if (step !== null) out.push({ step, name, bytes: new Uint8Array(await readFile(join(dir, name))), ...(video && { video }) });
    }
    return out.sort((a, b) => a.step - b.step);
  } catch (e) {
    fail('IO', `cannot read job folder ${dir}`, e);
  }
}
