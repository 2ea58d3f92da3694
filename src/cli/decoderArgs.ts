// The decoder options decode and progress share, checked as command-line options.
import { BACKEND_KINDS } from '../backend/registry.js';
import type { BackendChoice, CreateDecoderOptions, Decoder } from '../decoder.js';
import type { LatentSpace } from '../model/decoderTypes.js';
import { MODEL_IDS, type ModelId } from '../model/registry.js';
import { defaultWeights } from './files.js';
import { modelFromLatents } from './latentModel.js';
import { oneOf, scaleOption, UsageError, type CliValues } from './options.js';

/**
 * Checks --backend, --model, --precision and --latent-space, and builds the decoder's options;
 * without --model, the model is the one the latent files' metadata names (--weights are then
 * checked against it). Only --weights and the default weights' lookup are left to the decoder.
 */
export async function decoderOptions(v: CliValues, inputs: readonly string[]): Promise<CreateDecoderOptions> {
  const backend = oneOf<BackendChoice>('backend', v.backend, ['auto', ...BACKEND_KINDS]) ?? 'auto';
  const precision = precisionArg(v, backend);
  const latentSpace = oneOf<LatentSpace>('latent-space', v['latent-space'], ['model', 'vae']);
  const id = oneOf<ModelId>('model', v.model, MODEL_IDS) ?? (await modelFromLatents(inputs));
  if (id === undefined && v.weights === undefined) throw new UsageError('--model is required (or --weights to detect it from)');
  return {
    backend,
    ...(id !== undefined && { model: id }),
    ...((v.weights !== undefined || backend !== 'linear') && { weights: v.weights ?? defaultWeights(id!) }),
    ...(precision !== undefined && { precision }),
    ...(latentSpace !== undefined && { latentSpace }),
  };
}

/** `--precision`, refused with a backend that is not WebGPU's (auto may pick it). */
export function precisionArg(v: CliValues, backend: string): 'auto' | 'f32' | 'f16' | undefined {
  const precision = oneOf('precision', v.precision, ['auto', 'f32', 'f16'] as const);
  if (precision !== undefined && backend !== 'auto' && backend !== 'webgpu') throw new UsageError(`--precision sets WebGPU's arithmetic; --backend ${backend} does not use it`);
  return precision;
}

/** `--scale`, refused with `--backend linear`, whose preview is at latent resolution whatever the scale. */
export function scaleArg(v: CliValues): number | undefined {
  const scale = scaleOption(v.scale);
  if (scale !== undefined && scale !== 1 && v.backend === 'linear') throw new UsageError(`--scale ${v.scale} does nothing with --backend linear: its preview is at latent resolution`);
  return scale;
}

/** That --precision does nothing when auto did not pick WebGPU. */
export function notePrecisionIgnored(backend: string, v: CliValues): void {
  if (v.precision !== undefined && backend !== 'webgpu') process.stderr.write(`taesd-web: note: --precision ${v.precision} is ignored: it applies to webgpu only\n`);
}

/** Says which backend decodes and why, and that --precision does nothing when auto did not pick WebGPU. */
export function announceBackend(decoder: Decoder, v: CliValues): void {
  process.stderr.write(`taesd-web: ${decoder.model.id} on ${decoder.backend} (${decoder.backendReason})\n`);
  notePrecisionIgnored(decoder.backend, v);
  decoder.onBackendChange((c) => process.stderr.write(`taesd-web: switched to ${c.to}: ${c.reason}\n`));
}
