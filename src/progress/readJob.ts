// Node only: reads a job folder's saved steps back, for gather().
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRegularFile } from '../boundedRead.js';
import { fail, isTaesdError } from '../errors.js';
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

/** Largest step file read: a 4096 x 4096 RGBA PNG (the decode limit) stored uncompressed is 64 MiB. */
export const MAX_STEP_FILE_BYTES = 80 << 20;
/** Most bytes of step files read from one job: gather() holds them all, and every decoded image. */
export const MAX_JOB_BYTES = 512 << 20;

/**
 * The `<prefix>_NNNN.(jpeg|jpg|png)` files of a job folder in step order, with their bytes;
 * works on folders the ComfyUI node wrote too. Other files (latest.*, `_final`) are left out.
 * Only regular files are read (a FIFO or device planted under a step's name is IO), each within
 * MAX_STEP_FILE_BYTES and all within MAX_JOB_BYTES.
 */
export async function readJobSteps(job: JobFolder): Promise<StepFile[]> {
  const prefix = checkName('filenamePrefix', job.filenamePrefix ?? 'step');
  const dir = join(resolve(job.root ?? '.'), checkName('outputFolder', job.outputFolder ?? 'progress'), checkName('jobId', job.jobId));
  try {
    const out: StepFile[] = [];
    let total = 0;
    for (const name of await readdir(dir)) {
      const step = parseStepFileName(name, prefix);
      if (step === null) continue;
      const bytes = await readRegularFile(join(dir, name), 'step file', {
        maxBytes: Math.min(MAX_STEP_FILE_BYTES, MAX_JOB_BYTES - total),
        tooLarge: (size) => fail('IO', `step file ${name} in ${dir}: ${size} bytes is over the ${MAX_STEP_FILE_BYTES}-byte limit per step or the ${MAX_JOB_BYTES}-byte limit per job`),
      });
      total += bytes.byteLength;
      out.push({ step, name, bytes });
    }
    return out.sort((a, b) => a.step - b.step);
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `cannot read job folder ${dir}`, e);
  }
}
