// Every configuration the benchmark times: where it runs, what it is, and how close its output
// must be to the reference. No Node or DOM imports (the page reads it too).

/** node: a Node child (child.ts); chromium: a page in headless Chromium (browser.ts); python: torch_time.py. */
export type Place = 'node' | 'chromium' | 'python';
/** taesd-web's own backends; onnxruntime and PyTorch as a user would call them; the preview. */
export type Group = 'taesd-web' | 'onnxruntime' | 'pytorch' | 'preview';

export interface BenchConfig {
  readonly id: string;
  readonly place: Place;
  readonly group: Group;
  readonly label: string;
  /** Largest max |diff| against the reference output; null: not checked. */
  readonly tolerance: number | null;
  /** In `--quick` runs (not: those whose cold start alone takes minutes on a CPU-emulated adapter). */
  readonly quick: boolean;
}

// f16 storage rounds every stored activation to 11 bits (|x| in 16..32: steps of 1/64), so a
// real image's output moves by up to ~6e-3: 1-2 levels of 8-bit.
const F32 = 2e-3, F16 = 1e-2;

const config = (id: string, place: Place, group: Group, label: string, tolerance: number | null, quick = true): BenchConfig =>
  ({ id, place, group, label, tolerance, quick });

export const CONFIGS: readonly BenchConfig[] = [
  config('wgsl-f32', 'node', 'taesd-web', 'taesd-web WGSL f32 (Node, Dawn)', F32),
  config('wgsl-f16', 'node', 'taesd-web', 'taesd-web WGSL f16 (Node, Dawn)', F16),
  config('native', 'node', 'taesd-web', 'taesd-web native (onnxruntime-node)', F32),
  config('auto', 'node', 'taesd-web', 'taesd-web auto (Node)', F16),
  config('wasm-1', 'node', 'taesd-web', 'taesd-web wasm, 1 thread (onnxruntime-web, Node)', F32),
  config('wasm-2', 'node', 'taesd-web', 'taesd-web wasm, 2 threads (onnxruntime-web, Node)', F32),
  config('linear', 'node', 'preview', 'linear preview (latent size, Node)', null),
  config('ort-node', 'node', 'onnxruntime', 'onnxruntime-node, bare session', F32),
  config('ort-webgpu', 'node', 'onnxruntime', 'onnxruntime-web webgpu EP, WebGPU build (Node, Dawn)', F32, false),
  config('ort-jsep', 'node', 'onnxruntime', 'onnxruntime-web webgpu EP, JSEP build (Node, Dawn)', F32, false),
  config('chromium:wgsl-f32', 'chromium', 'taesd-web', 'taesd-web WGSL f32 (Chromium)', F32),
  config('chromium:wgsl-f16', 'chromium', 'taesd-web', 'taesd-web WGSL f16 (Chromium)', F16),
  config('chromium:ort-webgpu', 'chromium', 'onnxruntime', 'onnxruntime-web webgpu EP, WebGPU build (Chromium)', F32, false),
  config('chromium:ort-jsep', 'chromium', 'onnxruntime', 'onnxruntime-web webgpu EP, JSEP build (Chromium)', F32, false),
  config('chromium:wasm-1', 'chromium', 'taesd-web', 'taesd-web wasm, 1 thread (Chromium)', F32, false),
  config('chromium:wasm-2', 'chromium', 'taesd-web', 'taesd-web wasm, 2 threads (Chromium)', F32, false),
  config('torch:cpu-fp32', 'python', 'pytorch', 'PyTorch CPU fp32 (torch_time.py)', null),
  config('torch:cuda-fp16', 'python', 'pytorch', 'PyTorch CUDA fp16 (torch_time.py)', null),
  config('torch:cuda-fp32', 'python', 'pytorch', 'PyTorch CUDA fp32 (torch_time.py)', null),
];

/** The configuration named `id`; throws for an unknown one. */
export function configById(id: string): BenchConfig {
  const found = CONFIGS.find((c) => c.id === id);
  if (!found) throw new Error(`unknown configuration ${id}; known: ${CONFIGS.map((c) => c.id).join(', ')}`);
  return found;
}

/** What a child runs, without its place: `chromium:wgsl-f32` -> `wgsl-f32`. */
export const engineOf = (id: string): string => id.slice(id.indexOf(':') + 1);
