// The bench's bare onnxruntime-node row for TAEHV: the stage graphs taesd-web exports
// (fallback/videoOnnxGraph.ts), each in a plain InferenceSession with onnxruntime's defaults, run
// chunk by chunk with the MemBlock states carried by hand; no decoder object, no RGBA conversion.
import { loadNativeRuntime } from '../src/fallback/native.js';
import { buildVideoStageGraph, STAGE_INPUT, STAGE_OUTPUT, stateIn, stateOut } from '../src/fallback/videoOnnxGraph.js';
import { frameRule, outputFrameCount } from '../src/model/videoFrames.js';
import { lowerVideoDecoder, videoSkips, videoStages } from '../src/model/videoGraph.js';
import { resolveVideoWeights, VIDEO_MAX_ELEMENTS } from '../src/model/videoWeights.js';
import { parseWeights } from '../src/weights/load.js';

/** Latent frames per chunk: small enough that every stage of a 30x52 chunk stays well under 1 GiB. */
export const BARE_CHUNK = 4;

export async function runBareVideo(bytes: Uint8Array, latent: Float32Array, frames: number, h: number, w: number, options: { scale: number; timeScale: number }): Promise<{ ms: number; out: { frames: number; width: number; height: number } }> {
  const weights = resolveVideoWeights(parseWeights(bytes, 'taew2_1.pth', VIDEO_MAX_ELEMENTS), { model: 'taew2_1' });
  const graph = lowerVideoDecoder(weights, videoSkips(weights.model, options.scale, options.timeScale));
  const stages = videoStages(graph);
  const ort = await loadNativeRuntime();
  const sessions = await Promise.all(stages.map((s) => ort.InferenceSession.create(buildVideoStageGraph(graph, s))));
  const c = weights.model.latentChannels, plane = h * w;
  const t0 = performance.now();
  // [1,C,T,h,w] -> frames [T,C,h,w]
  const byFrame = new Float32Array(latent.length);
  for (let ch = 0; ch < c; ch++) for (let t = 0; t < frames; t++) byFrame.set(latent.subarray((ch * frames + t) * plane, (ch * frames + t + 1) * plane), (t * c + ch) * plane);
  const states = new Map<number, Float32Array>();
  let produced = 0, dims: readonly number[] = [];
  for (let t = 0; t < frames; t += BARE_CHUNK) {
    const n = Math.min(BARE_CHUNK, frames - t);
    let x: InstanceType<typeof ort.Tensor> = new ort.Tensor('float32', byFrame.slice(t * c * plane, (t + n) * c * plane), [n, c, h, w]);
    for (const [k, stage] of stages.entries()) {
      const [, , sh, sw] = x.dims as [number, number, number, number];
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { [STAGE_INPUT]: x };
      for (const s of stage.states) {
        const v = graph.states[s]!, f = 2 ** (v.level - stage.input.level);
        feeds[stateIn(s)] = new ort.Tensor('float32', states.get(s) ?? new Float32Array(v.channels * sh * f * sw * f), [1, v.channels, sh * f, sw * f]);
      }
      const out = await sessions[k]!.run(feeds);
      for (const s of stage.states) states.set(s, out[stateOut(s)]!.data as Float32Array);
      x = out[STAGE_OUTPUT]!;
    }
    produced += x.dims[0]!;
    dims = x.dims;
  }
  const ms = performance.now() - t0;
  await Promise.all(sessions.map((s) => s.release()));
  const count = outputFrameCount(frameRule(weights.model.frameRule, graph.timeUpscale, frames), frames, graph.timeUpscale);
  if (produced < count) throw new Error(`bare run produced ${produced} frames, fewer than the ${count} upstream keeps`);
  return { ms, out: { frames: count, width: dims[3]!, height: dims[2]! } };
}
