// `backend: 'auto'`: WebGPU on a hardware adapter, WASM where WebGPU is missing or CPU-emulated,
// and a timed probe where the adapter does not say what it is, remembered per adapter.
import { isTaesdError } from '../errors.js';
import { deviceAdapterInfo, isFallbackAdapter } from '../gpu/device.js';
import type { LatentDecoder, LatentInput } from '../model/decoder.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';
import { BACKENDS, gpuDevice, webgpuOn, type BackendOptions } from './registry.js';

/**
 * Where measurements are remembered across decoders (and, with a persistent store, across page
 * loads): `localStorage` fits as is. Values are small JSON strings under `taesd-web:` keys.
 */
export interface TuningStore {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
}

/** The default store: this page or process only. */
export function memoryStore(): TuningStore {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

const processStore = memoryStore();

interface ProbeResult { pick: 'webgpu' | 'wasm'; reason: string }

/**
 * Times a second decode of a `size` x `size` latent (default 16) on each backend (the first
 * builds pipelines) and picks the faster; the answer is kept in `store` under the adapter's description.
 */
export async function probeBackends(adapter: string, webgpu: LatentDecoder, wasm: LatentDecoder, store: TuningStore = processStore, size = 16): Promise<ProbeResult> {
  const key = `taesd-web:probe:${adapter}`;
  const cached = parseProbe(await store.getItem(key));
  if (cached) return { pick: cached.pick, reason: `${cached.reason} (cached for this adapter)` };
  const c = webgpu.model.latent.channels;
  const probe: LatentInput = { data: new Float32Array(c * size * size), shape: [c, size, size] };
  const time = async (d: LatentDecoder) => { await d.decode(probe); const t = performance.now(); await d.decode(probe); return performance.now() - t; };
  const tg = await time(webgpu), tw = await time(wasm);
  const result: ProbeResult = { pick: tg <= tw ? 'webgpu' : 'wasm', reason: `timed probe (${size}x${size} latent): webgpu ${tg.toFixed(0)} ms, wasm ${tw.toFixed(0)} ms` };
  await store.setItem(key, JSON.stringify(result));
  return result;
}

function parseProbe(text: string | null): ProbeResult | null {
  try {
    const v = text === null ? null : (JSON.parse(text) as Partial<ProbeResult>);
    return v && (v.pick === 'webgpu' || v.pick === 'wasm') && typeof v.reason === 'string' ? { pick: v.pick, reason: v.reason } : null;
  } catch {
    return null; // a store holding something else is treated as empty
  }
}

function adapterKey(i: GPUAdapterInfo): string {
  return `${i.vendor}|${i.architecture}|${i.device}|${i.description}`;
}

/** The best backend for this machine, made, and why it was chosen. */
export async function chooseBackend(model: ModelSpec, weights: DecoderWeights, options: BackendOptions & { store?: TuningStore }): Promise<{ decoder: LatentDecoder; reason: string }> {
  const wasm = () => BACKENDS.wasm.create(model, weights, options);
  let gpu: { device: GPUDevice; owned: boolean };
  try {
    gpu = await gpuDevice(options);
  } catch (e) {
    if (!isTaesdError(e, 'NO_WEBGPU')) throw e;
    return { decoder: await wasm(), reason: `no WebGPU: ${e.message}` };
  }
  const { device, owned } = gpu;
  const info = deviceAdapterInfo(device);
  if (info && isFallbackAdapter(info)) {
    if (owned) device.destroy();
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'fallback adapter';
    return { decoder: await wasm(), reason: `WebGPU adapter is CPU-emulated (${name}); WASM is faster there` };
  }
  const webgpu = webgpuOn(device, owned, weights, options);
  if (info && info.vendor !== '') return { decoder: webgpu, reason: `hardware WebGPU adapter (${info.vendor} ${info.architecture})`.trim() };
  // The adapter does not say what it is: time both on a small latent, once per adapter.
  const other = await wasm();
  const { pick, reason } = await probeBackends(info ? adapterKey(info) : 'unknown adapter', webgpu, other, options.store);
  (pick === 'webgpu' ? other : webgpu).destroy();
  return { decoder: pick === 'webgpu' ? webgpu : other, reason };
}
