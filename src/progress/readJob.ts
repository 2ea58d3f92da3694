// Node only: reads a job folder's saved steps back, for gather().
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fail } from '../errors.js';
import { checkName } from './names.js';
import { parseStepFileName, type StepFile } from './stepFiles.js';

export interface JobFolder {
  /** As for FileSink (default: the current directory). */
  readonly root?: string;
  readonly jobId: string;
  /** Default `progress`. */
  readonly outputFolder?: string;
  /** Default `step`. */
  readonly filenamePrefix?: string;
}

/**
 * The `<prefix>_NNNN.(jpeg|jpg|png)` files of a job folder in step order, with their bytes;
 * works on folders the ComfyUI node wrote too. Other files (latest.*, `_final`) are left out.
 */
export async function readJobSteps(job: JobFolder): Promise<StepFile[]> {
  const prefix = checkName('filenamePrefix', job.filenamePrefix ?? 'step');
  const dir = join(resolve(job.root ?? '.'), checkName('outputFolder', job.outputFolder ?? 'progress'), checkName('jobId', job.jobId));
  try {
    const out: StepFile[] = [];
    for (const name of await readdir(dir)) {
      const step = parseStepFileName(name, prefix);
      if (step !== null) out.push({ step, name, bytes: new Uint8Array(await readFile(join(dir, name))) });
    }
    return out.sort((a, b) => a.step - b.step);
  } catch (e) {
    fail('IO', `cannot read job folder ${dir}`, e);
  }
}
