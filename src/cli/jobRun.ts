// The frame of a `taesd-web progress` run, image or video: SIGINT/SIGTERM cancel it, every step is
// read before the job folder is touched, then the steps are written with a progress bar.
import { basename } from 'node:path';
import { FileSink } from '../progress/fileSink.js';
import type { ProgressOptions } from '../progress/options.js';
import { runProgressJob } from '../progress/run.js';
import type { ProgressWriterInit, StepInput } from '../progress/writer.js';
import { ProgressBar } from './progressBar.js';
import { cancelOnSignals } from './signals.js';
import { startSpinner } from './spinner.js';

export interface PreparedJob {
  /** Step i is the i-th input file's. */
  readonly steps: readonly StepInput[];
  readonly writer: Pick<ProgressWriterInit, 'decoder' | 'videoPreviewer'>;
  /** Called once the steps are read, before the job folder is touched (e.g. to say which backend decodes). */
  readonly announce?: () => void;
  /** Words for the last line, after the steps are written. */
  readonly summary?: () => string;
}

/**
 * Runs `prepare` (which loads decoders, registering their release in `cleanup`, and reads every
 * step), then writes the job into `<root>/<outputFolder>/<jobId>`. SIGINT/SIGTERM/SIGHUP end it
 * with status `cancelled` (before the folder is touched: nothing written); exit 130 / 143.
 */
export async function runCliJob(inputs: readonly string[], job: ProgressOptions, root: string, prepare: (cleanup: (() => void)[]) => Promise<PreparedJob>): Promise<number> {
  const cancel = new AbortController();
  const signals = cancelOnSignals(cancel);
  const cleanup: (() => void)[] = [];
  try {
    const prepared = await prepare(cleanup);
    if (cancel.signal.aborted) return signals.exitCode(); // before the job folder was touched
    prepared.announce?.();
    const bar = new ProgressBar(inputs.length);
    let done = 0;
    const summary = await runProgressJob(
      (async function* () {
        for (const step of prepared.steps) {
          // A slow step (a first WebGPU decode on a CPU adapter, a TAEHV decode) shows its elapsed time.
          const stop = startSpinner(`step ${done + 1}/${inputs.length}: ${basename(inputs[done]!)}`);
          try {
            yield step;
          } finally {
            stop();
          }
          bar.update(++done, basename(inputs[done - 1]!));
        }
      })(),
      { ...job, ...prepared.writer, sink: new FileSink({ root }), signal: cancel.signal },
    );
    const extra = prepared.summary?.();
    process.stderr.write(`taesd-web: job ${summary.jobId}: saved ${summary.savedSteps.length} step(s)${extra ? ` (${extra})` : ''}, final ${summary.finalImage ?? 'none'}\n`);
    return 0;
  } catch (e) {
    if (!cancel.signal.aborted) throw e;
    process.stderr.write(`taesd-web: job ${job.jobId}: cancelled; progress.json says so\n`);
    return signals.exitCode();
  } finally {
    signals.remove();
    for (const release of cleanup) release();
  }
}
