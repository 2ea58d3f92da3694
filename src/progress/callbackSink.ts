import type { Artifact, JobInfo, ProgressSink } from './sink.js';

/**
 * Hands every artifact to `onArtifact`, so a server can push it over its own transport
 * (websocket, object storage, ...). The writer awaits each call, so a slow transport slows
 * the writer, which then skips superseded steps rather than queueing. `onOpen` runs once per
 * job, before any artifact: the place to clear what an earlier run of the same job left behind.
 */
export class CallbackSink implements ProgressSink {
  constructor(
    private readonly onArtifact: (artifact: Artifact, job: JobInfo) => void | Promise<void>,
    private readonly onOpen?: (job: JobInfo) => void | Promise<void>,
  ) {}

  private job: JobInfo | null = null;

  async open(job: JobInfo): Promise<void> {
    this.job = job;
    await this.onOpen?.(job);
  }

  async write(artifact: Artifact): Promise<void> {
    await this.onArtifact(artifact, this.job!);
  }
}
