import { fail } from '../errors.js';
import { importNodeOnly, isNode } from '../platform.js';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

// Dawn crashes if the object create() returned is garbage-collected while a device lives.
let nodeGpu: GPU | undefined;

/** navigator.gpu in browsers; in Node, the `webgpu` package (Dawn), loaded on first use. */
export async function getGpu(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (!isNode) fail('NO_WEBGPU', 'WebGPU is not available in this browser (navigator.gpu is undefined)');
  if (!nodeGpu) {
    let dawn: DawnModule;
    try {
      dawn = await importNodeOnly<DawnModule>('webgpu');
    } catch (e) {
      fail('NO_WEBGPU', 'WebGPU in Node needs the optional peer package "webgpu" (Dawn, about 130 MB): npm install webgpu@~0.6.2', e);
    }
    Object.assign(globalThis, dawn.globals);
    nodeGpu = dawn.create([]);
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
  if (!adapter) fail('NO_WEBGPU', 'no WebGPU adapter found (on Linux without a GPU, install Mesa lavapipe: mesa-vulkan-drivers)');
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
    fail('NO_WEBGPU', `the WebGPU adapter refused a device: ${e instanceof Error ? e.message : String(e)}`, e);
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
