// What each preview setting of a TAEHV decoder costs, counted rather than timed: the multiply-adds
// of its op list (VideoDecoder.flops) at every scale and timeScale, as a share of the full decode's.
//   node dist/bench/videoFlops.js <weights> [model] [h,w=60,104] [frames=21]
import { readFileSync } from 'node:fs';
import { videoDecodeFlops } from '../src/model/videoGraph.js';
import type { VideoModelId } from '../src/model/videoRegistry.js';
import { resolveVideoWeights, VIDEO_MAX_ELEMENTS } from '../src/model/videoWeights.js';
import { parseWeights } from '../src/weights/load.js';

const [file, model, size = '60,104', count = '21'] = process.argv.slice(2);
if (!file) throw new Error('usage: node dist/bench/videoFlops.js <weights> [model] [h,w] [frames]');
const [h, w] = size.split(',').map(Number) as [number, number];
const frames = Number(count);
const weights = resolveVideoWeights(parseWeights(readFileSync(file), file, VIDEO_MAX_ELEMENTS), { sourceName: file, ...(model && { model: model as VideoModelId }) });
const flops = (scale: number, timeScale: number) => videoDecodeFlops(weights, frames, h, w, scale, timeScale);
const full = flops(1, 1);
console.log(`${weights.model.id}, ${frames} latent frames of ${h}x${w}: TFLOP (share of the full decode)`);
const timeScales = [1, 1 / 2, 1 / 4, 1 / 8].slice(0, 1 + weights.model.timeUpscale.filter(Boolean).length);
const scales = weights.model.arch === 'super' ? [1] : [1, 1 / 2, 1 / 4, 1 / 8];
console.log(['scale \\ timeScale', ...timeScales.map((t) => `1/${1 / t}`)].join('\t'));
for (const s of scales) console.log([`1/${1 / s}`, ...timeScales.map((t) => { const f = flops(s, t); return `${(f / 1e12).toFixed(2)} (${Math.round((100 * f) / full)}%)`; })].join('\t'));
