// ComfyUI's latent-format class names (comfy/latent_formats.py, Comfy-Org/ComfyUI@75399d78) -> the
// decoder for them (TAESD ids for images, TAEHV ids for video), and for video formats ComfyUI's
// `process_out`: a step message holds the sampler's (model-space) x0; TAEHV weights that read the
// VAE's space (lightx2v's, which ComfyUI's previewer loads) need it mapped, as ComfyUI does.
import { fail } from '../errors.js';
import type { LatentInput } from './decoderTypes.js';
import { toFloat32 } from '../weights/safetensors.js';

/** A decoder id: one of MODEL_IDS, or a TAEHV id (taew2_1, ...) the registry may not know yet. */
export type ComfyModelId = string;

/** ComfyUI's `process_out`, model space -> VAE space: `x * std / scale + mean` per channel (std 1 and mean 0 when absent). */
export interface ComfyProcessOut {
  readonly scale: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

export interface ComfyFormat {
  readonly model: ComfyModelId;
  /** Video formats: ComfyUI's map from the sampler's x0 to the VAE's space; image formats: none (TAESD takes x0). */
  readonly processOut?: ComfyProcessOut;
}

const WAN21: ComfyProcessOut = {
  scale: 1,
  mean: [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
  std: [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916],
};
const WAN22: ComfyProcessOut = {
  scale: 1,
  mean: [
    -0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557, -0.1382, 0.0542, 0.2813, 0.0891, 0.157, -0.0098, 0.0375, -0.1825,
    -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502, -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.123,
    -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.052, 0.3748, 0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667,
  ],
  std: [
    0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.499, 0.4818, 0.5013, 0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
    0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659, 0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
    0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887, 0.3971, 1.06, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744,
  ],
};
const IDENTITY: ComfyProcessOut = { scale: 1 };

/** Format class name -> decoder; several formats share one (SDXL and Playground 2.5's previews both use TAESDXL). */
export const COMFY_LATENT_FORMATS: Readonly<Record<string, ComfyFormat>> = {
  SD15: { model: 'taesd' },
  SDXL: { model: 'taesdxl' },
  SDXL_Playground_2_5: { model: 'taesdxl' },
  SD3: { model: 'taesd3' },
  Flux: { model: 'taef1' },
  Flux2: { model: 'taef2' },
  // Video (TAEHV): Wan21 also carries Qwen-Image; LTXAV is LTX-2's packed audio+video (its video part is sent).
  Wan21: { model: 'taew2_1', processOut: WAN21 },
  Wan22: { model: 'taew2_2', processOut: WAN22 },
  HunyuanVideo: { model: 'taehv', processOut: { scale: 0.476986 } },
  HunyuanVideo15: { model: 'taehv1_5', processOut: { scale: 1.03682 } },
  LTXV: { model: 'taeltx_2', processOut: IDENTITY },
  LTXAV: { model: 'taeltx_2', processOut: IDENTITY },
  CogVideoX: { model: 'taecvx', processOut: { scale: 1.15258426 } },
  CogVideoX1_5: { model: 'taecvx', processOut: { scale: 0.7 } },
  MiniMaxH3Video: { model: 'taeh3', processOut: IDENTITY },
  MiniMaxH3AV: { model: 'taeh3', processOut: IDENTITY },
};

function comfyFormat(latentFormat: string): ComfyFormat {
  if (Object.hasOwn(COMFY_LATENT_FORMATS, latentFormat)) return COMFY_LATENT_FORMATS[latentFormat]!;
  fail('MODEL_UNKNOWN', `no decoder for ComfyUI latent format ${JSON.stringify(latentFormat).slice(0, 80)}: expected one of ${Object.keys(COMFY_LATENT_FORMATS).join(', ')}`);
}

/** The decoder for a ComfyUI latent format; MODEL_UNKNOWN names the formats there are decoders for. */
export function modelForComfyFormat(latentFormat: string): ComfyModelId {
  return comfyFormat(latentFormat).model;
}

/**
 * ComfyUI's `process_out` of a video format: the sampler's x0 `[B,C,T,h,w]` in the VAE's space
 * (float32), for TAEHV weights that read that space (lightx2v's; madebyollin's read x0 as it is).
 * BAD_OPTION for an image format (taesd-web maps those itself: `latentSpace: 'vae'`),
 * LATENT_CHANNELS when C does not fit.
 */
export function comfyProcessOut(latentFormat: string, latent: LatentInput): LatentInput {
  const p = comfyFormat(latentFormat).processOut ?? fail('BAD_OPTION', `${latentFormat} is an image format: TAESD decodes its x0 as it is`);
  const [b = 0, c = 0] = latent.shape;
  const count = latent.shape.reduce((a, d) => a * d, 1);
  if (p.mean && c !== p.mean.length) fail('LATENT_CHANNELS', `${latentFormat} latents have ${p.mean.length} channels, got ${c} (shape [${latent.shape.join(',')}])`);
  const src = latent.data instanceof Float32Array ? latent.data : toFloat32('F16', new Uint8Array(latent.data.buffer, latent.data.byteOffset, latent.data.byteLength), count);
  const out = new Float32Array(count);
  const plane = count / Math.max(b * c, 1);
  for (let i = 0; i < b * c; i++) {
    const ch = i % c;
    const mul = (p.std?.[ch] ?? 1) / p.scale, add = p.mean?.[ch] ?? 0;
    for (let j = i * plane; j < (i + 1) * plane; j++) out[j] = src[j]! * mul + add;
  }
  return { data: out, shape: latent.shape };
}
