import { createDecoder } from '../decoder.js';
import { checkFormat } from '../image/encode.js';
import { withModelFromFiles } from './comfyModel.js';
import { FileSink } from '../progress/fileSink.js';
import { runProgressJob } from '../progress/run.js';
import { readLatentFile } from './latentFile.js';
import type { BatchMode } from '../progress/options.js';
import { decoderOptions, intOption, scaleOption, UsageError, type CliValues } from './main.js';
import { ProgressBar } from './progressBar.js';

/**
 * `taesd-web progress`: the files, in order, are steps 0..N-1 of one job. Every file is read and
 * checked against the model before the job folder is touched, so bad input writes nothing.
 */
export async function progressCommand(inputs: string[], v: CliValues): Promise<number> {
  if (inputs.length === 0) throw new UsageError('progress needs at least one latent file');
  if (v['job-id'] === undefined) throw new UsageError('--job-id is required');
  const total = intOption('total', v.total, 1) ?? inputs.length;
  if (total < inputs.length) throw new UsageError(`--total ${total} is less than the ${inputs.length} files given`);
  const every = intOption('every', v.every, 1);
  const start = intOption('start', v.start);
  const end = intOption('end', v.end);
  const quality = intOption('quality', v.quality, 1);
  const format = v.format === undefined ? undefined : checkFormat(v.format === 'jpg' ? 'jpeg' : v.format);
  const scale = scaleOption(v.scale);
  if (v.batch !== undefined && !['first', 'grid', 'each'].includes(v.batch)) throw new UsageError(`--batch must be one of first, grid, each, got "${v.batch}"`);
  const batch = v.batch as BatchMode | undefined;
  const options = decoderOptions(await withModelFromFiles(v, inputs)); // --model, else the files' latent_format
  // Each step is mapped into model space below, so the writer's decodes must not map it again.
  const decoder = await createDecoder({ ...options, latentSpace: 'model' });
  try {
    const steps = [];
    for (const file of inputs) {
      const { latent, space } = await readLatentFile(file);
      const prepared = decoder.prepareLatent(latent, { latentSpace: options.latentSpace ?? space ?? 'model' });
      steps.push({ data: prepared.data, shape: [prepared.batch, prepared.channels, prepared.height, prepared.width] });
    }
    process.stderr.write(`taesd-web: ${decoder.model.id} on ${decoder.backend} (${decoder.backendReason})\n`);
    const bar = new ProgressBar(inputs.length);
    let done = 0;
    const summary = await runProgressJob(
      (async function* () {
        for (const step of steps) {
          yield step;
          bar.update(++done, inputs[done - 1]!);
        }
      })(),
      {
        sink: new FileSink({ root: v.root ?? '.' }),
        decoder,
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
      },
    );
    process.stderr.write(`taesd-web: job ${summary.jobId}: saved ${summary.savedSteps.length} step(s), final ${summary.finalImage ?? 'none'}\n`);
    return 0;
  } finally {
    decoder.destroy();
  }
}
