// onnxruntime with no taesd-web around it: the decoder's ONNX graph (the same one the native and
// wasm backends build) in a bare InferenceSession, fed the latent as a tensor. What a user of
// onnxruntime would write; the Node child and the page both use it.
import type * as Ort from 'onnxruntime-web';
import { buildDecoderGraph, GRAPH_INPUT, GRAPH_OUTPUT } from '../src/fallback/onnxGraph.js';
import type { OrtModule } from '../src/fallback/ort.js';
import { lowerDecoder } from '../src/model/graph.js';
import type { DecoderWeights } from '../src/model/weights.js';
import type { BenchLatent } from './latents.js';
import type { Runner } from './measure.js';

export async function ortRunner(ort: OrtModule, weights: DecoderWeights, skip: number, latent: BenchLatent, options: Ort.InferenceSession.SessionOptions, note: string): Promise<Runner> {
  const session = await ort.InferenceSession.create(buildDecoderGraph(lowerDecoder(weights, { skipUpsamples: skip })), options);
  const input = new ort.Tensor('float32', latent.data, [1, ...latent.shape]);
  const run = async () => (await session.run({ [GRAPH_INPUT]: input }))[GRAPH_OUTPUT]!;
  return {
    note,
    decode: run,
    raw: async () => (await run()).data as Float32Array,
    destroy: () => void session.release(),
  };
}
