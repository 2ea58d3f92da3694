import { ProgressWriter, type ProgressSummary, type ProgressWriterInit, type StepInput } from './writer.js';

export interface RunProgressOptions extends ProgressWriterInit {
  /**
   * Wait for each step to be written before taking the next (default true): an offline run
   * (the CLI reading latent files) saves every step. With false, steps are pushed as fast as
   * they come and superseded ones are skipped, as in a live sampler.
   */
  readonly waitEachStep?: boolean;
  /** Stops the run between steps: progress.json gets status `cancelled` and the signal's reason is thrown. */
  readonly signal?: AbortSignal;
}

/**
 * Writes a whole job from a sequence of steps (latents or images, step i = the i-th item):
 * start, push each, finish. On any failure (a bad latent, a full disk) progress.json gets
 * status `error` with the message (`cancelled` when `signal` stopped it), files already written
 * stay, and the error is rethrown.
 * What `taesd-web progress` calls.
 */
export async function runProgressJob(
  steps: Iterable<StepInput> | AsyncIterable<StepInput>,
  options: RunProgressOptions,
): Promise<ProgressSummary> {
  const writer = new ProgressWriter(options);
  await writer.start();
  try {
    for await (const step of steps) {
      options.signal?.throwIfAborted();
      writer.push(step);
      if (options.waitEachStep ?? true) await writer.flush();
    }
    return await writer.finish();
  } catch (e) {
    await writer.abort(e, options.signal?.aborted ? 'cancelled' : 'error');
    throw e;
  }
}
