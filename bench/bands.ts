// A 128x128 latent (the astronaut latent tiled 2x2) decoded to 1024x1024 on WebGPU: banded at
// the device's own buffer limit vs split into many more bands (must be bit-identical), and vs
// onnxruntime-web WASM (within the golden tolerance).  node dist/bench/bands.js
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { parseSafetensors } from '../src/weights/safetensors.js';

const shared = process.env.TAESD_SHARED ?? join(PACKAGE_ROOT, '../shared');
const weights = resolveDecoderWeights(parseWeights(readFileSync(join(shared, 'models/taef2_decoder.safetensors'))));
const small = parseSafetensors(readFileSync(join(shared, 'golden/taef2_astronaut.safetensors'))).tensors.get('latent')!;
const data = new Float32Array(32 * 128 * 128);
for (let c = 0; c < 32; c++) for (let y = 0; y < 128; y++) for (let x = 0; x < 128; x++) data[(c * 128 + y) * 128 + x] = small.data[(c * 64 + (y % 64)) * 64 + (x % 64)]!;
const latent = { data, shape: [32, 128, 128] };

const { device } = await requestGpuDevice();
const run = async (label: string, maxBufferBytes?: number) => {
  const decoder = new WebGpuDecoder(device, weights, maxBufferBytes ? { maxBufferBytes } : {});
  const t = performance.now();
  const raw = await decoder.decodeRaw(latent);
  console.log(`${label}: ${decoder.lastBandCount} bands, ${((performance.now() - t) / 1000).toFixed(1)} s`);
  decoder.destroy();
  return raw;
};
const natural = await run(`webgpu f32, buffer limit ${device.limits.maxStorageBufferBindingSize >> 20} MiB`);
const many = await run('webgpu f32, buffer limit 24 MiB', 24 << 20);
const wasm = await createWasmDecoder(weights);
const t = performance.now();
const reference = await wasm.decodeRaw(latent);
console.log(`wasm (${wasm.numThreads} threads): ${((performance.now() - t) / 1000).toFixed(1)} s`);
let same = natural.data.length === many.data.length, maxDiff = 0;
for (let i = 0; i < natural.data.length; i++) {
  if (natural.data[i] !== many.data[i]) same = false;
  maxDiff = Math.max(maxDiff, Math.abs(natural.data[i]! - reference.data[i]!));
}
console.log(`${natural.width}x${natural.height}: bands identical: ${same}; max abs vs wasm: ${maxDiff.toExponential(2)}`);
wasm.destroy();
device.destroy();
process.exitCode = same && maxDiff < 2e-3 ? 0 : 1;
