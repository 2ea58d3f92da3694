// One Node configuration on one latent size, in a process of its own (onnxruntime-web fixes its
// threads per process; cold starts and peak RSS stay the run's own). Prints one JSON line per
// measurement (see measure.ts), each tagged with config, size and skip.
//   node dist/bench/child.js <config> <size> [--skip K] [--runs MIN,MAX] [--budget MS] [--ref FILE] [--write-ref FILE]
//   node dist/bench/child.js --adapter      (the WebGPU adapter Dawn finds, one JSON line)
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDecoder } from '../src/decoder.js';
import { isTaesdError } from '../src/errors.js';
import type { OrtModule } from '../src/fallback/ort.js';
import { getGpu, isFallbackAdapter } from '../src/gpu/device.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { findAssets, readFloat32 } from './assets.js';
import { configById, engineOf } from './configs.js';
import { attachGpuTimer, copySharedWrites, trackGpuBuffers } from './gpu.js';
import { benchLatent, type BenchLatent } from './latents.js';
import { decoderRunner, errorText, measure, Unavailable, type Line, type Runner } from './measure.js';
import { ortRunner } from './ortRunner.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    skip: { type: 'string', default: '0' },
    runs: { type: 'string', default: '3,20' },
    budget: { type: 'string', default: '4000' },
    ref: { type: 'string' },
    'write-ref': { type: 'string' },
    adapter: { type: 'boolean', default: false },
  },
});

/** One line on stdout: the parent reads these. */
const print = (line: object): void => console.log(JSON.stringify(line));

/** A module that may be missing (the device kit carries no onnxruntime-web); Unavailable if it is. */
async function optional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') throw new Unavailable(`${name} is not installed here`);
    throw e;
  }
}

async function adapterInfo(): Promise<object> {
  const adapter = await (await getGpu()).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { adapter: null };
  const { vendor, architecture, device, description } = adapter.info;
  return { adapter: { vendor, architecture, device, description, fallback: isFallbackAdapter(adapter.info), f16: adapter.features.has('shader-f16'), timestampQuery: adapter.features.has('timestamp-query') } };
}

/** A device as createDecoder would request it, plus timestamp queries where the adapter has them. */
async function benchDevice(f16: boolean): Promise<{ device: GPUDevice; timer: ReturnType<typeof attachGpuTimer> | null }> {
  const adapter = await (await getGpu()).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Unavailable('no WebGPU adapter');
  if (f16 && !adapter.features.has('shader-f16')) throw new Unavailable('the adapter has no shader-f16');
  const timestamps = adapter.features.has('timestamp-query');
  const requiredFeatures: GPUFeatureName[] = [...(f16 ? ['shader-f16' as const] : []), ...(timestamps ? ['timestamp-query' as const] : [])];
  const { maxStorageBufferBindingSize, maxBufferSize } = adapter.limits;
  const device = await adapter.requestDevice({ label: 'taesd-web bench', requiredFeatures, requiredLimits: { maxStorageBufferBindingSize, maxBufferSize } });
  return { device, timer: timestamps ? attachGpuTimer(device) : null };
}

/** Makes the runner for `engine` (a config id without its place). */
async function runner(engine: string, latent: BenchLatent, skip: number): Promise<Runner> {
  const { weights } = findAssets();
  const scale = 2 ** -skip;
  const taesd = async (options: Parameters<typeof createDecoder>[0]) => {
    try {
      return await createDecoder({ weights, ...options });
    } catch (e) {
      if (isTaesdError(e, 'BACKEND_UNAVAILABLE') || isTaesdError(e, 'NO_WEBGPU')) throw new Unavailable(e.message);
      throw e;
    }
  };
  const parsed = () => resolveDecoderWeights(parseWeights(readFileSync(weights)));
  switch (engine) {
    case 'wgsl-f32': case 'wgsl-f16': {
      const precision = engine === 'wgsl-f16' ? 'f16' : 'f32';
      const { device, timer } = await benchDevice(precision === 'f16');
      const decoder = await taesd({ backend: 'webgpu', precision, device });
      return decoderRunner(decoder, latent, scale, {
        ...(timer && { gpuMs: () => timer.lastMs() }),
        destroy: () => { decoder.destroy(); device.destroy(); },
      });
    }
    case 'native': case 'auto': case 'linear':
      return decoderRunner(await taesd(engine === 'linear' ? { backend: 'linear', model: 'taef2' } : { backend: engine }), latent, scale);
    case 'wasm-1': case 'wasm-2':
      await optional('onnxruntime-web');
      return decoderRunner(await taesd({ backend: 'wasm', wasm: { numThreads: Number(engine.slice(5)) } }), latent, scale);
    case 'ort-node': {
      const ort = await optional<OrtModule>('onnxruntime-node');
      return ortRunner(ort, parsed(), skip, latent, {}, 'InferenceSession.create(graph) with default options');
    }
    case 'ort-webgpu': case 'ort-jsep': {
      // onnxruntime-web's WebGPU builds look for navigator.gpu: give them Dawn's, as getGpu() installs it.
      const gpu = await getGpu();
      Object.defineProperty(globalThis, 'navigator', { value: { ...globalThis.navigator, gpu }, configurable: true });
      copySharedWrites();
      // 'onnxruntime-web' is the wasm-only build in Node; /all carries JSEP, /webgpu the WebGPU (C++ EP) build.
      const ort = await optional<OrtModule>(engine === 'ort-jsep' ? 'onnxruntime-web/all' : 'onnxruntime-web/webgpu');
      return ortRunner(ort, parsed(), skip, latent, { executionProviders: ['webgpu'] },
        `${engine === 'ort-jsep' ? 'onnxruntime-web/all' : 'onnxruntime-web/webgpu'} on Dawn, SharedArrayBuffer writes copied (bench/gpu.ts)`);
    }
    default:
      throw new Error(`${engine} does not run in Node`);
  }
}

async function main(): Promise<void> {
  if (opts.adapter) return print(await adapterInfo());
  const [id = '', sizeArg = ''] = positionals;
  const config = configById(id);
  const size = Number(sizeArg), skip = Number(opts.skip);
  const [minRuns = 3, maxRuns = 20] = opts.runs!.split(',').map(Number);
  const tag = { config: id, size, skip };
  const emit = (line: Line | object) => print({ ...tag, ...line });
  const engine = engineOf(id);
  const gpuBuffers = ['wgsl-f32', 'wgsl-f16', 'ort-webgpu', 'ort-jsep'].includes(engine) ? await trackGpuBuffersOnDawn() : null;
  const astronaut = parseSafetensors(readFileSync(findAssets().astronaut)).tensors.get('latent')!;
  const latent = benchLatent(astronaut, size);
  const raw = await measure(() => runner(engine, latent, skip), {
    minRuns, maxRuns, budgetMs: Number(opts.budget),
    reference: opts.ref ? readFloat32(opts.ref) : null,
    tolerance: config.tolerance,
  }, emit);
  if (raw && opts['write-ref']) writeFileSync(opts['write-ref'], raw);
  const gpuPeak = gpuBuffers?.peakBytes() ?? null;
  emit({ kind: 'memory', peakRssMiB: process.resourceUsage().maxRSS / 1024, ...(gpuPeak !== null && { gpuBuffersMiB: gpuPeak / 2 ** 20 }) });
}

/** GPU buffer bytes need Dawn's classes, which exist once getGpu() has installed its globals. */
async function trackGpuBuffersOnDawn(): Promise<{ peakBytes(): number } | null> {
  try {
    await getGpu();
    return trackGpuBuffers();
  } catch {
    return null; // no webgpu package: the runner says so
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    print({ kind: 'error', message: errorText(e) });
    process.exit(1);
  },
);
