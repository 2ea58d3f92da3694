import { createDecoder } from '../decoder.js';
import { isTaesdError } from '../errors.js';
import { isVideoModelId } from '../model/videoRegistry.js';
import { MAX_TOTAL_STEPS, resolveOptions, type ProgressOptions } from '../progress/options.js';
import { announceBackend, decoderOptions, scaleArg } from './decoderArgs.js';
import { runCliJob } from './jobRun.js';
import { readLatentFile } from './latentFile.js';
import { batchOption, formatOption, intOption, qualityOption, UsageError, type CliValues } from './options.js';
import { progressVideoCommand } from './progressVideo.js';
import { withSpinner } from './spinner.js';

/** The job options' API names, as the command line spells them (for resolveOptions' messages). */
const FLAGS: Record<string, string> = {
  jobId: '--job-id', totalSteps: '--total', outputFolder: '--output-folder', filenamePrefix: '--prefix',
  startStep: '--start', endStep: '--end', saveEveryN: '--every', batch: '--batch', scale: '--scale',
};

/** Every job option, checked as the writer will (names included) and reported by its flag, before any work. */
function jobOptions(inputs: string[], v: CliValues): Omit<ProgressOptions, 'jobId'> & { jobId: string } {
  if (v['job-id'] === undefined) throw new UsageError('--job-id is required');
  const total = intOption('total', v.total, 1, MAX_TOTAL_STEPS) ?? inputs.length;
  if (total < inputs.length) throw new UsageError(`--total ${total} is less than the ${inputs.length} files given`);
  const every = intOption('every', v.every, 1, MAX_TOTAL_STEPS);
  const start = intOption('start', v.start, 0, MAX_TOTAL_STEPS);
  const end = intOption('end', v.end);
  if (end !== undefined && end < (start ?? 0)) throw new UsageError(`--end ${end} is before --start ${start ?? 0}: no step would be saved`);
  const format = formatOption(v.format);
  const quality = qualityOption(v.quality, format !== 'png', 'the steps are PNG (--format png)');
  const scale = scaleArg(v);
  const batch = batchOption(v.batch);
  const options = {
    jobId: v['job-id'],
    totalSteps: total,
    ...(v['output-folder'] !== undefined && { outputFolder: v['output-folder'] }),
    ...(v.prefix !== undefined && { filenamePrefix: v.prefix }),
    ...(format !== undefined && { format }),
    ...(quality !== undefined && { quality }),
    ...(v.base64 && { includeBase64: true }),
    ...(every !== undefined && { saveEveryN: every }),
    ...(start !== undefined && { startStep: start }),
    ...(end !== undefined && { endStep: end }),
    ...(scale !== undefined && { scale }),
    ...(batch !== undefined && { batch }),
  };
  try {
    resolveOptions(options);
  } catch (e) {
    if (!isTaesdError(e)) throw e;
    throw new UsageError(`${e.message.replace(/\b(\w+)\b/g, (w) => FLAGS[w] ?? w)} [${e.code}]`);
  }
  return options;
}

/**
 * `taesd-web progress`: the files, in order, are steps 0..N-1 of one job. Every option and file is
 * checked (and every file read and checked against the model) before the job folder is touched,
 * so bad input writes nothing. SIGINT/SIGTERM/SIGHUP end the job with status `cancelled`, its lock
 * released and no temp file left; exit 130 / 143 / 129.
 */
export async function progressCommand(inputs: string[], v: CliValues): Promise<number> {
  if (inputs.length === 0) throw new UsageError('progress needs at least one latent file (or --example)');
  const job = jobOptions(inputs, v);
  if (isVideoModelId(v.model)) return progressVideoCommand(inputs, v, job);
  const videoOnly = (['budget-ms', 'fps'] as const).find((o) => v[o] !== undefined);
  if (videoOnly) throw new UsageError(`--${videoOnly} is for the video models (TAEHV); --model ${v.model ?? '(none)'} decodes images`);
  const options = await decoderOptions(v, inputs);
  return runCliJob(inputs, job, v.root ?? '.', async (cleanup) => {
    // Each step is prepared once, below (checked and mapped into model space, in the file's own
    // space), before the job folder is touched; the writer's decodes take it as it is.
    const decoder = await withSpinner('loading the decoder', createDecoder({ ...options, latentSpace: 'model' }));
    cleanup.push(() => decoder.destroy());
    const steps = [];
    for (const file of inputs) {
      const { latent, space } = await readLatentFile(file);
      steps.push(decoder.prepareLatent(latent, { latentSpace: options.latentSpace ?? space ?? 'model' }));
    }
    return { steps, writer: { decoder }, announce: () => announceBackend(decoder, v) };
  });
}
