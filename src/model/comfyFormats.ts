// ComfyUI's latent-format class names (comfy/latent_formats.py, Comfy-Org/ComfyUI@75399d78) -> the
// decoder for them. A step message (integrations/comfyui) names its format; this picks the model.
// Video formats name the TAEHV decoders by id; until those ids are models, decoding them fails
// with MODEL_UNKNOWN like any other unknown id.
import { fail } from '../errors.js';

/** A decoder id: one of MODEL_IDS, or a TAEHV id (taew2_1, ...) the registry may not know yet. */
export type ComfyModelId = string;

/** Format class name -> decoder id; several formats share one latent space (e.g. SDXL and Playground 2.5's previews). */
export const COMFY_LATENT_FORMATS: Readonly<Record<string, ComfyModelId>> = {
  SD15: 'taesd',
  SDXL: 'taesdxl',
  SDXL_Playground_2_5: 'taesdxl',
  SD3: 'taesd3',
  Flux: 'taef1',
  Flux2: 'taef2',
  // Video (TAEHV): Wan21 also carries Qwen-Image, LTXAV is LTX-2's packed audio+video (its video part).
  Wan21: 'taew2_1',
  Wan22: 'taew2_2',
  HunyuanVideo: 'taehv',
  HunyuanVideo15: 'taehv1_5',
  LTXV: 'taeltx_2',
  LTXAV: 'taeltx_2',
  CogVideoX: 'taecvx',
  CogVideoX1_5: 'taecvx',
  MiniMaxH3Video: 'taeh3',
  MiniMaxH3AV: 'taeh3',
};

/** The decoder for a ComfyUI latent format; MODEL_UNKNOWN names the formats there are decoders for. */
export function modelForComfyFormat(latentFormat: string): ComfyModelId {
  if (Object.hasOwn(COMFY_LATENT_FORMATS, latentFormat)) return COMFY_LATENT_FORMATS[latentFormat]!;
  fail('MODEL_UNKNOWN', `no decoder for ComfyUI latent format ${JSON.stringify(latentFormat).slice(0, 80)}: expected one of ${Object.keys(COMFY_LATENT_FORMATS).join(', ')}`);
}
