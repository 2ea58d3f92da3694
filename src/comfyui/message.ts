// A step message from the ComfyUI bridge (integrations/comfyui/taesd_web/protocol.py): a
// safetensors file, tensor `latent` (f16, the sampler's layout) and string metadata.
import { fail } from '../errors.js';
import type { LatentInput } from '../model/decoderTypes.js';
import { modelForComfyFormat, type ComfyModelId } from '../model/comfyFormats.js';
import { parseSafetensors } from '../weights/safetensors.js';

export interface StepMessage {
  /** `[B,C,h,w]` (images) or `[B,C,T,h,w]` (video), in the sampler's (model) space. */
  readonly latent: LatentInput;
  /** ComfyUI's latent-format class name (`SDXL`, `Flux2`, `Wan21`, ...). */
  readonly latentFormat: string;
  /** The decoder for it (see COMFY_LATENT_FORMATS); a TAEHV id for video. */
  readonly model: ComfyModelId;
  /** 0-based step and the sampler's step count. */
  readonly step: number;
  readonly totalSteps: number;
  /** The prompt and the sampler node it came from ('' when the server did not know). */
  readonly promptId: string;
  readonly nodeId: string;
  readonly sigma: number | null;
  /** All of the file's metadata, as sent. */
  readonly metadata: Readonly<Record<string, string>>;
}

function count(metadata: Record<string, string>, key: string, name: string): number {
  const v = metadata[key];
  if (v === undefined || !/^\d{1,9}$/.test(v)) fail('LATENT_SHAPE', `step message ${name}: metadata ${key} must be a non-negative integer, got ${JSON.stringify(v ?? null).slice(0, 40)}`);
  return Number(v);
}

/**
 * Parses a step message. WEIGHTS_CORRUPT for a damaged file, LATENT_SHAPE for a missing tensor or
 * metadata, a layout other than rank 4 or 5, or a step past the total; MODEL_UNKNOWN for a format
 * with no decoder.
 */
export function parseStepMessage(bytes: Uint8Array, name = 'step message'): StepMessage {
  const { tensors, metadata } = parseSafetensors(bytes, name);
  const t = tensors.get('latent') ?? fail('LATENT_SHAPE', `${name} has no tensor named "latent"`);
  if (t.shape.length !== 4 && t.shape.length !== 5) fail('LATENT_SHAPE', `${name}: latent must be [B,C,h,w] or [B,C,T,h,w], got [${t.shape.join(',')}]`);
  const latentFormat = metadata['latent_format'] ?? fail('LATENT_SHAPE', `${name} has no latent_format metadata`);
  const step = count(metadata, 'step', name);
  const totalSteps = count(metadata, 'total_steps', name);
  if (step >= totalSteps) fail('LATENT_SHAPE', `${name}: step ${step} is not below total_steps ${totalSteps}`);
  const sigma = metadata['sigma'] ? Number(metadata['sigma']) : NaN;
  return {
    latent: { data: t.data, shape: t.shape },
    latentFormat,
    model: modelForComfyFormat(latentFormat),
    step,
    totalSteps,
    promptId: metadata['prompt_id'] ?? '',
    nodeId: metadata['node_id'] ?? '',
    sigma: Number.isFinite(sigma) ? sigma : null,
    metadata,
  };
}

/** Item `i` of a batch `[B,...]` as a batch of one. */
export function batchItem(latent: LatentInput, i: number): LatentInput {
  const [b, ...rest] = latent.shape as [number, ...number[]];
  if (!(i >= 0 && i < b)) fail('BAD_OPTION', `batch item ${i} of ${b}`);
  const size = rest.reduce((a, d) => a * d, 1);
  return { data: latent.data.subarray(i * size, (i + 1) * size), shape: [1, ...rest] };
}
