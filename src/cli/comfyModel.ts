import { fail, isTaesdError } from '../errors.js';
import { modelForComfyFormat } from '../model/comfyFormats.js';
import { readLatentFile } from './latentFile.js';

/**
 * The model the inputs' `latent_format` metadata names (taesd-web step messages from ComfyUI), or
 * undefined when none names one. BAD_OPTION when two name different decoders (one decoder runs
 * them all); files that cannot be read are left for the decode to report.
 */
export async function modelFromLatentFiles(inputs: readonly string[]): Promise<string | undefined> {
  const models = new Map<string, string>();
  for (const input of inputs) {
    let latentFormat: string | null;
    try {
      ({ latentFormat } = await readLatentFile(input));
    } catch (e) {
      if (isTaesdError(e)) continue;
      throw e;
    }
    if (latentFormat !== null) models.set(modelForComfyFormat(latentFormat), input);
  }
  if (models.size > 1) fail('BAD_OPTION', `the inputs need different decoders (${[...models].map(([m, f]) => `${f}: ${m}`).join(', ')}); decode them in separate runs or give --model`);
  return models.keys().next().value;
}

/** The CLI's values with `model` from the inputs' `latent_format` when --model was not given. */
export async function withModelFromFiles<T extends { readonly model?: string | undefined }>(values: T, inputs: readonly string[]): Promise<T> {
  if (values.model !== undefined) return values;
  const model = await modelFromLatentFiles(inputs);
  return model === undefined ? values : { ...values, model };
}
