// `backend: 'auto'`: WebGPU on a hardware adapter, WASM where WebGPU is missing or CPU-emulated,
// and a timed probe where the adapter does not say what it is, remembered per adapter.
import { isTaesdError } from '../errors.js';
import { isNode } from '../platform.js';
import { deviceAdapterInfo, isFallbackAdapter } from '../gpu/device.js';
import { adapterKey, processStore, type TuningStore } from '../gpu/tune.js';
import type { BackendDecoder, LatentInput } from '../model/decoderTypes.js';
import type { ModelSpec } from '../model/registry.js';
import type { DecoderWeights } from '../model/weights.js';
import { BACKENDS, gpuDevice, webgpuOn, type BackendOptions } from './registry.js';


/** `cpu`: the CPU backend it was timed against (native or WASM). */
interface ProbeResult { pick: 'webgpu' | 'cpu'; reason: string }

/**
 * Times a second decode of a `size` x `size` latent (default 16) on each backend (the first
 * builds pipelines) and picks the faster; the answer is kept in `store` under the adapter's description.
 */
export async function probeBackends(adapter: string, webgpu: BackendDecoder, cpu: BackendDecoder, store: TuningStore = processStore, size = 16): Promise<ProbeResult> {
  const key = `taesd-web:probe:${cpu.backend}:${adapter}`;
  const cached = parseProbe(await store.getItem(key));
  if (cached) return { pick: cached.pick, reason: `${cached.reason} (cached for this adapter)` };
  const c = webgpu.model.latent.channels;
  const probe: LatentInput = { data: new Float32Array(c * size * size), shape: [c, size, size] };
  const time = async (d: BackendDecoder) => { await d.decode(probe); const t = performance.now(); await d.decode(probe); return performance.now() - t; };
  const tg = await time(webgpu), tc = await time(cpu);
  const result: ProbeResult = { pick: tg <= tc ? 'webgpu' : 'cpu', reason: `timed probe (${size}x${size} latent): webgpu ${tg.toFixed(0)} ms, ${cpu.backend} ${tc.toFixed(0)} ms` };
  await store.setItem(key, JSON.stringify(result));
  return result;
}

function parseProbe(text: string | null): ProbeResult | null {
  try {
    const v = text === null ? null : (JSON.parse(text) as Partial<ProbeResult>);
    return v && (v.pick === 'webgpu' || v.pick === 'cpu') && typeof v.reason === 'string' ? { pick: v.pick, reason: v.reason } : null;
  } catch {
    return null; // a store holding something else is treated as empty
  }
}

/**
 * The fastest backend without a GPU: native onnxruntime in Node when onnxruntime-node is
 * installed, else onnxruntime-web's WASM; `why` names it (callers add why it was chosen).
 */
export async function cpuBackend(model: ModelSpec, weights: DecoderWeights, options: BackendOptions): Promise<{ decoder: BackendDecoder; why: string }> {
  if (isNode) {
    try {
      return { decoder: await BACKENDS.native.create(model, weights, options), why: 'native onnxruntime' };
    } catch (e) {
      if (!isTaesdError(e, 'BACKEND_UNAVAILABLE')) throw e;
      return { decoder: await BACKENDS.wasm.create(model, weights, options), why: 'WASM (install onnxruntime-node for native speed)' };
    }
  }
  return { decoder: await BACKENDS.wasm.create(model, weights, options), why: 'WASM' };
}

/** The best backend for this machine, made, and why it was chosen. */
export async function chooseBackend(model: ModelSpec, weights: DecoderWeights, options: BackendOptions): Promise<{ decoder: BackendDecoder; reason: string }> {
  const cpu = () => cpuBackend(model, weights, options);
  let gpu: { device: GPUDevice; owned: boolean };
  try {
    gpu = await gpuDevice(options);
  } catch (e) {
    if (!isTaesdError(e, 'NO_WEBGPU')) throw e;
    const { decoder, why } = await cpu();
    return { decoder, reason: `no WebGPU (${e.message}); using ${why}` };
  }
  const { device, owned } = gpu;
  const info = deviceAdapterInfo(device);
  if (info && isFallbackAdapter(info)) {
    if (owned) device.destroy();
    const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'fallback adapter';
    const { decoder, why } = await cpu();
    return { decoder, reason: `WebGPU adapter is CPU-emulated (${name}), slower than the CPU backends; using ${why}` };
  }
  const webgpu = webgpuOn(device, owned, weights, options);
  if (info && info.vendor !== '') return { decoder: webgpu, reason: `hardware WebGPU adapter (${info.vendor} ${info.architecture})`.trim() };
  // The adapter does not say what it is: time both on a small latent, once per adapter.
  const { decoder: other } = await cpu();
  const { pick, reason } = await probeBackends(adapterKey(device), webgpu, other, options.store);
  (pick === 'webgpu' ? other : webgpu).destroy();
  return { decoder: pick === 'webgpu' ? webgpu : other, reason };
}
