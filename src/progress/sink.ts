import type { ImageFormat } from '../image/encode.js';
import type { ProgressRecord } from './record.js';

/** What an artifact is: progress.json, a step file, `latest.<ext>`, or `<prefix>_final.<ext>`. */
export type ArtifactKind = 'progress' | 'step' | 'latest' | 'final';

/** One file of a job folder, whole. */
export interface Artifact {
  /** File name inside the job folder (a safe name: no separators). */
  readonly name: string;
  readonly kind: ArtifactKind;
  /** The step an image shows (`total_steps` for the final image); null for progress.json. */
  readonly step: number | null;
  /** `application/json`, `image/jpeg` or `image/png`. */
  readonly contentType: string;
  readonly bytes: Uint8Array;
  /** For progress.json, the record its bytes encode. */
  readonly record?: ProgressRecord;
}

/** The job a sink is opened for; all names already checked with checkName. */
export interface JobInfo {
  readonly jobId: string;
  readonly outputFolder: string;
  readonly filenamePrefix: string;
  readonly format: ImageFormat;
}

/**
 * Where a ProgressWriter's artifacts go. The writer calls `open` once, then `write` one
 * artifact at a time (never concurrently), awaiting each: a slow sink slows the writer, which
 * then skips superseded steps instead of queueing them.
 */
export interface ProgressSink {
  /** Prepares the job's place and removes what an earlier run of the same job left there. */
  open(job: JobInfo): Promise<void>;
  /** Stores one artifact, replacing any of the same name; a reader sees the old or the new bytes whole. */
  write(artifact: Artifact): Promise<void>;
  /**
   * Optional: called once when the run is over (after the final progress.json, or after a
   * failed start) to release what `open` took, e.g. FileSink's job lock.
   */
  close?(): Promise<void>;
}
