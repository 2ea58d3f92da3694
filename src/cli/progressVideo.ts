// `taesd-web progress --model <video id>`: each file is one step's video latent; each step's
// preview is made cheap-first within --budget-ms (linear, then TAEHV at lowered scale/time-scale).
import { createLinearVideoDecoder, type LinearVideoDecoder } from '../linearVideo.js';
import { VIDEO_MODEL_FAMILY, videoFamily, videoVaeToModel } from '../model/videoFamilies.js';
import { prepareVideoLatent, type VideoLatentInput } from '../model/videoLatent.js';
import { getVideoModel, type VideoModelId } from '../model/videoRegistry.js';
import type { ProgressOptions } from '../progress/options.js';
import { createVideoDecoder, type VideoBackendChoice } from '../videoDecoder.js';
import { cheapFirstPreviewer } from '../videoPreview.js';
import { precisionArg } from './decoderArgs.js';
import { defaultWeights } from './files.js';
import { readLatentFile } from './latentFile.js';
import { runCliJob } from './jobRun.js';
import { intOption, oneOf, UsageError, type CliValues } from './options.js';
import { withSpinner } from './spinner.js';

export async function progressVideoCommand(inputs: string[], v: CliValues, job: ProgressOptions): Promise<number> {
  const model = v.model as VideoModelId;
  const budgetMs = intOption('budget-ms', v['budget-ms'], 1, 3_600_000) ?? Infinity;
  const fps = intOption('fps', v.fps, 1, 240);
  const backend = oneOf<VideoBackendChoice | 'linear'>('backend', v.backend, ['auto', 'native', 'wasm', 'webgpu', 'linear']) ?? 'auto';
  const precision = precisionArg(v, backend);
  const space = oneOf('latent-space', v['latent-space'], ['model', 'vae'] as const);
  if (v.scale !== undefined || v.batch !== undefined) throw new UsageError('--scale and --batch are for image models; a video job picks its scale per step within --budget-ms');
  const family = VIDEO_MODEL_FAMILY[model] === null ? null : videoFamily(model);
  if (backend === 'linear' && !family?.rgbFactors) throw new UsageError(`--backend linear: ComfyUI publishes no latent-to-RGB factors for ${model}, so it has no linear preview`);
  // Every file read and checked (as model-space latents) before the job folder is touched.
  const steps: VideoLatentInput[] = [];
  for (const file of inputs) {
    const { latent, space: fileSpace } = await readLatentFile(file);
    const video = latent as VideoLatentInput;
    prepareVideoLatent(video, getVideoModel(model)); // a bad latent fails here, typed, before the job folder is touched
    if ((space ?? fileSpace) === 'vae' && !family) throw new UsageError(`--latent-space vae: ${model} has no ComfyUI latent format to map VAE latents with`);
    steps.push((space ?? fileSpace) === 'vae' ? videoVaeToModel(video, family!) : video);
  }
  const linear: LinearVideoDecoder | null = family?.rgbFactors ? createLinearVideoDecoder({ model }) : null;
  return runCliJob(inputs, { ...job, ...(fps !== undefined && { fps }) }, v.root ?? '.', async (cleanup) => {
    if (linear) cleanup.push(() => linear.destroy());
    const decoder = backend === 'linear' ? null : await withSpinner('loading the decoder', createVideoDecoder({ weights: v.weights ?? defaultWeights(model), model, backend, ...(precision !== undefined && { webgpu: { precision } }) }));
    if (decoder) cleanup.push(() => decoder.destroy());
    if (decoder?.latentSpace === 'vae') throw new UsageError(`${v.weights ?? model}: these weights decode VAE-space latents; a progress job's previews take the sampler's (model-space) ones`);
    const previewer = cheapFirstPreviewer({ budgetMs, linear, decoder });
    const using = [linear && 'linear', decoder && `TAEHV on ${decoder.backend}`].filter(Boolean).join(', then ');
    return {
      steps: steps.map((video) => ({ video })),
      writer: { videoPreviewer: previewer },
      announce: () => process.stderr.write(`taesd-web: ${model} previews: ${using}${budgetMs < Infinity ? ` within ${budgetMs} ms a step` : ''}\n`),
      summary: () => previewer.history.map((m) => (m.decoder === 'linear' ? 'linear' : `${m.scale}/${m.time_scale}`)).join(' '),
    };
  });
}
