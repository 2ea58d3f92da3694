import { fail, TaesdError } from '../errors.js';
import { importNodeOnly, isNode } from '../platform.js';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

// A promise, not its result: two concurrent first calls must share one Dawn instance, since Dawn
// crashes the process when the object create() returned is collected while a device lives.
let nodeGpu: Promise<GPU> | undefined;

/** Why WebGPU is missing, told in the terms of where we run: a browser setting, or Node's packages. */
const BROWSER_HINT = 'use a browser with WebGPU (Chrome/Edge 113+, Safari 26+, Firefox 141+ on Windows), or enable it (chrome://flags/#enable-unsafe-webgpu, Firefox dom.webgpu.enabled); WebGPU needs a secure context (https or localhost)';
const LINUX_HINT = 'on Linux without a GPU, install Mesa lavapipe: mesa-vulkan-drivers';

/**
 * Dawn hides `shader-f16` on NVIDIA's Vulkan driver by policy (crbug.com/42251215: CTS failures under
 * investigation), though the driver has it; this adapter toggle lifts that. Our f16 kernels are checked
 * against f32 and the reference wherever they run, and `precision: 'f32'` turns f16 off.
 */
const DAWN_FLAGS = ['enable-dawn-features=vulkan_enable_f16_on_nvidia'];

async function loadDawn(): Promise<GPU> {
  let dawn: DawnModule;
  try {
    dawn = await importNodeOnly<DawnModule>('webgpu');
  } catch (e) {
    fail('NO_WEBGPU', 'WebGPU in Node needs the optional peer package "webgpu" (Dawn, about 130 MB): npm install webgpu@~0.6.2', { cause: e });
  }
  Object.assign(globalThis, dawn.globals);
  return dawn.create(DAWN_FLAGS);
}

/** navigator.gpu in browsers; in Node, the `webgpu` package (Dawn), loaded once (a failed load is retried on the next call). */
export function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return Promise.resolve(nav.gpu);
  if (!isNode) return Promise.reject(new TaesdError('NO_WEBGPU', `WebGPU is not available in this browser (navigator.gpu is undefined): ${BROWSER_HINT}`));
  if (!nodeGpu) {
    const loading = loadDawn();
    nodeGpu = loading;
    loading.catch(() => { if (nodeGpu === loading) nodeGpu = undefined; });
  }
  return nodeGpu;
}

export interface GpuDeviceOptions {
  /** Ask for `shader-f16` when the adapter has it (default true). */
  readonly f16?: boolean;
  readonly powerPreference?: GPUPowerPreference;
}

/** An adapter and a device with the adapter's largest storage-buffer limits. Fallback (CPU) adapters are accepted. */
export async function requestGpuDevice(options: GpuDeviceOptions = {}): Promise<{ adapter: GPUAdapter; device: GPUDevice }> {
  const gpu = await getGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  if (!adapter) fail('NO_WEBGPU', `no WebGPU adapter found (${isNode ? LINUX_HINT : `the browser has WebGPU but no adapter: its GPU may be blocklisted; ${BROWSER_HINT}`})`);
  const requiredFeatures: GPUFeatureName[] = [];
  if (options.f16 !== false && adapter.features.has('shader-f16')) requiredFeatures.push('shader-f16');
  try {
    const device = await adapter.requestDevice({
      label: 'taesd-web',
      requiredFeatures,
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    return { adapter, device };
  } catch (e) {
    fail('NO_WEBGPU', `the WebGPU adapter refused a device: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** What the device's adapter says of itself (`device.adapterInfo`), where the implementation has it. */
export function deviceAdapterInfo(device: GPUDevice): GPUAdapterInfo | null {
  return (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? null;
}

/** True for CPU-emulated adapters (lavapipe, SwiftShader), where WASM is usually faster. */
export function isFallbackAdapter(info: GPUAdapterInfo): boolean {
  const i = info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return i.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
}
