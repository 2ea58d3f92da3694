// Decode time of a golden latent on one backend configuration, in this process.
//   node dist/bench/decode.js <webgpu-f32|webgpu-f16|wasm-1|wasm-2|linear> <golden name> [repeats=3]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDecoder } from '../src/decoder.js';
import { graphFlops, lowerDecoder } from '../src/model/graph.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';

const [config = 'webgpu-f32', name = 'taef2_rand_8x8', repeats = '3'] = process.argv.slice(2);
const shared = process.env.TAESD_SHARED ?? join(PACKAGE_ROOT, '../shared');
const latent = parseSafetensors(readFileSync(join(shared, 'golden', `${name}.safetensors`))).tensors.get('latent')!;
const [backend, variant] = config.split('-') as ['webgpu' | 'wasm' | 'linear', string | undefined];
const decoder = await createDecoder({
  model: 'taef2',
  weights: join(shared, 'models/taef2_decoder.safetensors'),
  backend,
  ...(backend === 'webgpu' && { precision: variant as 'f32' | 'f16' }),
  ...(backend === 'wasm' && { wasm: { numThreads: Number(variant) } }),
});
const input = { data: latent.data, shape: latent.shape };
const t0 = performance.now();
await decoder.decode(input); // first decode: pipeline compilation / session warm-up
const first = performance.now() - t0;
const times: number[] = [];
for (let i = 0; i < Number(repeats); i++) {
  const t = performance.now();
  await decoder.decode(input);
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)]!;
const [, h, w] = latent.shape as [number, number, number];
const graph = lowerDecoder(resolveDecoderWeights(parseWeights(readFileSync(join(shared, 'models/taef2_decoder.safetensors')))));
const gflops = backend === 'linear' ? '' : `, ${(graphFlops(graph, h, w) / median / 1e6).toFixed(1)} GFLOP/s`;
console.log(JSON.stringify({ config, latent: `${h}x${w}`, firstMs: Math.round(first), medianMs: Math.round(median), note: `${decoder.backendReason}${gflops}` }));
decoder.destroy();
