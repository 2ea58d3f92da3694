// TAEHV golden cases from ../shared/golden (made by upstream taehv.py's decode_video): the latent,
// the frames, and the weights and options they were made with.
import { readFileSync } from 'node:fs';
import { lowerVideoDecoder, type VideoGraph } from '../../src/model/videoGraph.js';
import { VIDEO_MODELS, type VideoModelId } from '../../src/model/videoRegistry.js';
import { resolveVideoWeights, VIDEO_MAX_ELEMENTS, type VideoWeights } from '../../src/model/videoWeights.js';
import { parseWeights } from '../../src/weights/load.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import type { Tensor } from '../../src/weights/tensor.js';
import { golden, sharedPath } from './shared.js';

export const VIDEO_GOLDENS = [
  'taew2_1_rand_t3', 'taew2_1_rand_t1', 'taew2_1_rand_t3_notime_half', 'taecvx_rand_t2', 'taew2_2_rand_t2',
  'taehv1_5_rand_t2', 'taew2_2_super_rand_t2', 'taeltx_2_rand_t2', 'taeh3_rand_t6',
] as const;

export interface VideoGolden {
  readonly name: string;
  readonly model: VideoModelId;
  readonly weightsFile: string;
  readonly latent: Tensor;
  /** `[T',3,H,W]` in [0,1]. */
  readonly image: Tensor;
  readonly skipUpsamples: number;
  readonly skipTimeUpsamples: number;
}

const falses = (tuple: string) => (tuple.match(/False/g) ?? []).length;

export function loadVideoGolden(name: string): VideoGolden {
  const { tensors, metadata } = parseSafetensors(readFileSync(golden(name)), name);
  const model = metadata['model'] as VideoModelId;
  const time = metadata['decoder_time_upscale']!;
  const trues = (time.match(/True/g) ?? []).length;
  return {
    name, model, weightsFile: sharedPath('models/test', metadata['weights']!),
    latent: tensors.get('latent')!, image: tensors.get('image')!,
    skipUpsamples: falses(metadata['decoder_space_upscale']!),
    skipTimeUpsamples: VIDEO_MODELS[model].timeUpscale.filter(Boolean).length - trues,
  };
}

const cache = new Map<string, VideoWeights>();
export function goldenWeights(g: VideoGolden): VideoWeights {
  const key = `${g.weightsFile}:${g.model}`;
  let w = cache.get(key);
  if (!w) cache.set(key, (w = resolveVideoWeights(parseWeights(readFileSync(g.weightsFile), g.weightsFile, VIDEO_MAX_ELEMENTS), { model: g.model, sourceName: g.weightsFile })));
  return w;
}

export const goldenGraph = (g: VideoGolden): VideoGraph => lowerVideoDecoder(goldenWeights(g), { skipUpsamples: g.skipUpsamples, skipTimeUpsamples: g.skipTimeUpsamples });

/** Latent frame `f` of a golden as a one-frame latent `[1,C,1,h,w]`, as a stream is pushed. */
export function goldenLatentFrame(g: VideoGolden, f: number): { data: Float32Array; shape: number[] } {
  const [, c, t, h, w] = g.latent.shape as [number, number, number, number, number];
  const data = new Float32Array(c * h * w);
  for (let ch = 0; ch < c; ch++) data.set(g.latent.data.subarray((ch * t + f) * h * w, (ch * t + f + 1) * h * w), ch * h * w);
  return { data, shape: [1, c, 1, h, w] };
}
