import { parseStepFileName, type StepFile } from './stepFiles.js';
import type { ProgressRecord } from './record.js';
import type { Artifact, JobInfo, ProgressSink } from './sink.js';

/**
 * Keeps the job folder in memory: the newest artifact per file name. For tests, and for
 * browsers that keep everything in RAM (`URL.createObjectURL(new Blob([a.bytes]))` shows one).
 * Memory: every saved step's encoded bytes (e.g. ~80 KB per 512x512 JPEG).
 */
export class MemorySink implements ProgressSink {
  /** File name -> newest artifact written under it. */
  readonly files = new Map<string, Artifact>();
  private jobInfo: JobInfo | null = null;

  /** The job last opened, or null. */
  get job(): JobInfo | null {
    return this.jobInfo;
  }

  /** Fresh job: forgets every file of a previous run. */
  async open(job: JobInfo): Promise<void> {
    this.files.clear();
    this.jobInfo = job;
  }

  async write(artifact: Artifact): Promise<void> {
    this.files.set(artifact.name, artifact);
  }

  /** The bytes of one file, or undefined. */
  get(name: string): Uint8Array | undefined {
    return this.files.get(name)?.bytes;
  }

  /** The current progress.json, or null before the first write. */
  progress(): ProgressRecord | null {
    return this.files.get('progress.json')?.record ?? null;
  }

  /** The saved step files in step order (the input of `gather`). */
  stepFiles(): StepFile[] {
    const prefix = this.jobInfo?.filenamePrefix ?? 'step';
    const out: StepFile[] = [];
    for (const [name, a] of this.files) {
      const step = parseStepFileName(name, prefix);
      if (step !== null) out.push({ step, name, bytes: a.bytes });
    }
    return out.sort((a, b) => a.step - b.step);
  }
}
