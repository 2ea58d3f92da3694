// One browser configuration on one latent size (bench/browser.ts opens this page once per run, in a
// fresh Chromium): the same measurement as the Node child (measure.ts), with the page's WebGPU.
import { createDecoder } from '../../src/decoder.js';
import type { OrtModule } from '../../src/fallback/ort.js';
import { resolveDecoderWeights } from '../../src/model/weights.js';
import { loadStateDict } from '../../src/weights/load.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import { configById, engineOf } from '../configs.js';
import { trackGpuBuffers } from '../gpu.js';
import { benchLatent, referenceFile, type BenchLatent } from '../latents.js';
import { decoderRunner, errorText, measure, Unavailable, type Runner } from '../measure.js';
import { ortRunner } from '../ortRunner.js';

export interface PageState {
  readonly done: boolean;
  readonly lines: readonly object[];
}

declare global {
  interface Window {
    taesdBench: PageState;
  }
}

/** The run's files (bench/server.ts): the weights, the astronaut latent and the reference outputs. */
const DATA = '/bench-data/';
/** onnxruntime-web's .wasm files (vite.config.ts serves its dist folder there). */
const ORT_FILES = '/ort/';

const lines: object[] = [];
window.taesdBench = { done: false, lines };

async function bytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function adapter(): Promise<GPUAdapter> {
  const a = 'gpu' in navigator ? await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
  if (!a) throw new Unavailable('no WebGPU adapter in this browser');
  return a;
}

async function runner(engine: string, latent: BenchLatent, skip: number): Promise<Runner> {
  const weights = `${DATA}weights.safetensors`;
  const taesd = async (options: Parameters<typeof createDecoder>[0]): Promise<Runner> => decoderRunner(await createDecoder(options), latent, 2 ** -skip);
  const bare = async (ort: OrtModule & { env: { wasm: { wasmPaths?: unknown } } }, name: string) => {
    ort.env.wasm.wasmPaths = ORT_FILES;
    const dict = (await loadStateDict(weights)).dict;
    return ortRunner(ort, resolveDecoderWeights(dict), skip, latent, { executionProviders: ['webgpu'] }, `${name}, executionProviders ['webgpu']`);
  };
  switch (engine) {
    case 'wgsl-f32': case 'wgsl-f16': {
      const f16 = engine === 'wgsl-f16';
      if (f16 && !(await adapter()).features.has('shader-f16')) throw new Unavailable('the adapter has no shader-f16');
      return taesd({ weights, backend: 'webgpu', precision: f16 ? 'f16' : 'f32' });
    }
    case 'wasm-1': case 'wasm-2':
      return taesd({ weights, backend: 'wasm', wasm: { numThreads: Number(engine.slice(5)), wasmPaths: ORT_FILES } });
    // The default entry is the JSEP build (WebGPU kernels in JS); /webgpu the WebGPU build (C++ EP on Dawn's API).
    case 'ort-jsep':
      return bare(await import('onnxruntime-web'), 'onnxruntime-web (JSEP build)');
    case 'ort-webgpu':
      return bare(await import('onnxruntime-web/webgpu'), 'onnxruntime-web/webgpu (WebGPU build)');
    default:
      throw new Error(`${engine} does not run in the browser`);
  }
}

async function main(): Promise<void> {
  const q = new URLSearchParams(location.search);
  const id = q.get('config') ?? '', size = Number(q.get('size')), skip = Number(q.get('skip') ?? 0);
  const config = configById(id);
  const emit = (line: object) => {
    lines.push({ config: id, size, skip, ...line });
    document.getElementById('log')!.textContent = lines.map((l) => JSON.stringify(l)).join('\n');
  };
  const a = await adapter().catch(() => null);
  if (a) {
    const { vendor, architecture, device, description } = a.info;
    emit({ kind: 'adapter', adapter: { vendor, architecture, device, description, f16: a.features.has('shader-f16') } });
  }
  const gpuBuffers = 'GPUDevice' in globalThis && !engineOf(id).startsWith('wasm') ? trackGpuBuffers() : null;
  const astronaut = parseSafetensors(await bytes(`${DATA}astronaut.safetensors`)).tensors.get('latent')!;
  const latent = benchLatent(astronaut, size);
  const reference = q.has('ref') ? await bytes(`${DATA}${referenceFile(size, skip)}`) : null;
  await measure(() => runner(engineOf(id), latent, skip), {
    minRuns: Number(q.get('minRuns') ?? 3), maxRuns: Number(q.get('maxRuns') ?? 20), budgetMs: Number(q.get('budget') ?? 4000),
    reference: reference && new Float32Array(reference.buffer, reference.byteOffset, reference.byteLength / 4), tolerance: config.tolerance,
  }, emit);
  if (gpuBuffers) emit({ kind: 'memory', gpuBuffersMiB: gpuBuffers.peakBytes() / 2 ** 20 });
}

main().catch((e: unknown) => lines.push({ kind: 'error', message: errorText(e) })).finally(() => {
  window.taesdBench = { done: true, lines };
});
