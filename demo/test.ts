// Helpers for the Playwright specs (test/browser/*.spec.ts), on window.taesdTest. Each returns
// plain JSON-able data; the specs compare it with the golden files and assert.
import { createDecoder, type BackendChoice, type BackendKind, type Precision } from 'taesd-web';
// Below the public API: onnxruntime-web's own webgpu provider and the adapter check, for comparisons.
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { isFallbackAdapter } from '../src/gpu/device.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { loadLatentFile, loadWeights, ORT_WASM_PATHS, TAEF2_WEIGHTS_URL, goldenUrl } from './assets.js';

export interface PageEnv {
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly userAgent: string;
  /** The WebGPU adapter the page gets, or null without WebGPU. */
  readonly adapter: {
    readonly vendor: string;
    readonly architecture: string;
    readonly device: string;
    readonly description: string;
    readonly isFallbackAdapter: boolean;
    readonly features: string[];
  } | null;
}

export interface DecodeResult {
  readonly backend: BackendKind;
  readonly reason: string;
  readonly width: number;
  readonly height: number;
  /** decodeRaw's output, planar [3, H, W]. */
  readonly raw: number[];
  /** decode()'s 8-bit RGBA. */
  readonly rgba: number[];
  /** The first and second decodeRaw gave bit-identical output. */
  readonly repeatable: boolean;
  /** createDecoder, including weights upload / ort session start. */
  readonly createMs: number;
  /** First decodeRaw (includes pipeline compilation on WebGPU). */
  readonly firstMs: number;
  /** Second decodeRaw (warm). */
  readonly ms: number;
}

export interface DecodeRequest {
  readonly backend: BackendChoice;
  /** WebGPU storage precision (default: 'f32'). */
  readonly precision?: Precision | 'auto';
}

export interface CanvasCheck {
  readonly backend: BackendKind;
  readonly target: 'element' | 'offscreen';
  readonly width: number;
  readonly height: number;
  readonly canvasSize: readonly [number, number];
  /** Bytes (RGBA) that differ between decode() and the canvas read back through a 2D canvas. */
  readonly differing: number;
  readonly maxDiff: number;
  readonly ms: number;
}

export interface TestApi {
  env(): Promise<PageEnv>;
  decodeGolden(name: string, request: DecodeRequest): Promise<DecodeResult>;
  /** Threads of onnxruntime-web's wasm backend in this page (fixed by the page's first ort session). */
  wasmThreads(): Promise<number>;
  /** decodeToCanvas vs decode() for a golden latent, on the given backend, into a <canvas> or an OffscreenCanvas. */
  canvasMatchesDecode(name: string, backend: BackendChoice, target?: 'element' | 'offscreen', withDevice?: boolean): Promise<CanvasCheck>;
  /** A WASM decode of a golden, and the longest main-thread task meanwhile. */
  mainThreadDuringDecode(name: string): Promise<MainThreadReport>;
}

declare global {
  interface Window {
    taesdTest: TestApi;
  }
}

async function env(): Promise<PageEnv> {
  const adapter = 'gpu' in navigator ? await navigator.gpu.requestAdapter() : null;
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    adapter: adapter && {
      vendor: adapter.info.vendor,
      architecture: adapter.info.architecture,
      device: adapter.info.device,
      description: adapter.info.description,
      isFallbackAdapter: isFallbackAdapter(adapter.info),
      features: [...adapter.features].map(String).sort(),
    },
  };
}

async function decodeGolden(name: string, request: DecodeRequest): Promise<DecodeResult> {
  const [weights, golden] = await Promise.all([loadWeights(TAEF2_WEIGHTS_URL), loadLatentFile(goldenUrl(name))]);
  const t0 = performance.now();
  const decoder = await createDecoder({
    weights,
    backend: request.backend,
    precision: request.precision ?? 'f32',
    wasm: { wasmPaths: ORT_WASM_PATHS },
  });
  const t1 = performance.now();
  try {
    const first = await decoder.decodeRaw(golden.latent);
    const t2 = performance.now();
    const raw = await decoder.decodeRaw(golden.latent);
    const t3 = performance.now();
    const rgba = await decoder.decode(golden.latent);
    return {
      backend: decoder.backend,
      reason: decoder.backendReason,
      width: raw.width,
      height: raw.height,
      raw: Array.from(raw.data),
      rgba: Array.from(rgba.data),
      repeatable: first.data.every((v, i) => v === raw.data[i]),
      createMs: t1 - t0,
      firstMs: t2 - t1,
      ms: t3 - t2,
    };
  } finally {
    decoder.destroy();
  }
}

async function wasmThreads(): Promise<number> {
  const weights = resolveDecoderWeights(await loadWeights(TAEF2_WEIGHTS_URL));
  const wasm = await createWasmDecoder(weights, { wasmPaths: ORT_WASM_PATHS });
  wasm.destroy();
  return wasm.numThreads;
}

/** Draws `source` (any canvas, a WebGPU one included, or an ImageBitmap) into a 2D canvas and reads its pixels. */
function readPixels(source: CanvasImageSource & { width: number; height: number }): Uint8ClampedArray {
  const copy = document.createElement('canvas');
  copy.width = source.width;
  copy.height = source.height;
  const ctx = copy.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new Error('no 2d context');
  ctx.drawImage(source, 0, 0);
  return ctx.getImageData(0, 0, copy.width, copy.height).data;
}

/**
 * Reads back what decodeToCanvas drew.
 * - `offscreen`: an OffscreenCanvas, read after the call resolves (it is never presented, so its
 *   texture stays readable).
 * - `element`: a <canvas> in the page. Headless Chromium without a display cannot read a WebGPU
 *   canvas once its frame has been presented (it reads back blank), so the pixels are copied in
 *   the task that submits the frame: right after each queue.submit on the decoder's device.
 */
async function canvasMatchesDecode(name: string, backend: BackendChoice, target: 'element' | 'offscreen' = 'element', withDevice = false): Promise<CanvasCheck> {
  const [weights, golden] = await Promise.all([loadWeights(TAEF2_WEIGHTS_URL), loadLatentFile(goldenUrl(name))]);
  // withDevice: hand the decoder a WebGPU device (the linear backend then draws canvases with its WGSL kernel).
  const device = withDevice ? await (await navigator.gpu.requestAdapter())!.requestDevice() : undefined;
  const decoder = await createDecoder({ weights, backend, precision: 'f32', wasm: { wasmPaths: ORT_WASM_PATHS }, ...(device && { device }) });
  const element = target === 'element' ? document.body.appendChild(document.createElement('canvas')) : null;
  const canvas = element ?? new OffscreenCanvas(1, 1);
  try {
    let captured: Uint8ClampedArray | null = null;
    const queue = decoder.device?.queue;
    if (element && queue) {
      const submit = queue.submit.bind(queue);
      queue.submit = (buffers) => {
        submit(buffers);
        captured = readPixels(element);
      };
    }
    const t0 = performance.now();
    const size = await decoder.decodeToCanvas(golden.latent, canvas);
    const ms = performance.now() - t0;
    const drawn = captured ?? (canvas instanceof OffscreenCanvas ? readPixels(canvas.transferToImageBitmap()) : readPixels(canvas));
    const image = await decoder.decode(golden.latent);
    let differing = Math.abs(drawn.length - image.data.length), maxDiff = 0;
    for (let i = 0; i < Math.min(drawn.length, image.data.length); i++) {
      const d = Math.abs(drawn[i]! - image.data[i]!);
      if (d !== 0) differing++;
      maxDiff = Math.max(maxDiff, d);
    }
    return { backend: decoder.backend, target, width: size.width, height: size.height, canvasSize: [canvas.width, canvas.height], differing, maxDiff, ms };
  } finally {
    element?.remove();
    decoder.destroy();
    device?.destroy();
  }
}

export interface MainThreadReport {
  readonly backend: string;
  readonly worker: boolean;
  readonly decodeMs: number;
  /** The longest task the page's main thread ran while the decode was in flight (the Long Tasks API sees those over 50 ms). */
  readonly longestTaskMs: number;
  /** The biggest gap a 10 ms timer saw in that time. */
  readonly longestTimerGapMs: number;
}

/** Decodes a golden on the WASM backend and watches the main thread meanwhile. */
async function mainThreadDuringDecode(name: string): Promise<MainThreadReport> {
  const golden = await loadLatentFile(goldenUrl(name));
  const decoder = await createDecoder({ weights: await loadWeights(TAEF2_WEIGHTS_URL), backend: 'wasm', wasm: { wasmPaths: ORT_WASM_PATHS } });
  await decoder.decode(golden.latent); // the first run at a size plans its memory
  let longestTaskMs = 0, longestTimerGapMs = 0, last = performance.now();
  const observer = new PerformanceObserver((list) => { for (const e of list.getEntries()) longestTaskMs = Math.max(longestTaskMs, e.duration); });
  observer.observe({ type: 'longtask' });
  const timer = setInterval(() => { const now = performance.now(); longestTimerGapMs = Math.max(longestTimerGapMs, now - last); last = now; }, 10);
  const t0 = performance.now();
  await decoder.decode(golden.latent);
  const decodeMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 100)); // let the observer deliver
  clearInterval(timer);
  observer.disconnect();
  // The WASM backend's own onnxruntime-web instance (the wasm-only build), not the app's.
  const worker = (await import('onnxruntime-web/wasm')).env.wasm.proxy === true;
  decoder.destroy();
  return { backend: decoder.backend, worker, decodeMs, longestTaskMs, longestTimerGapMs };
}

window.taesdTest = { env, decodeGolden, wasmThreads, canvasMatchesDecode, mainThreadDuringDecode };
document.getElementById('status')!.textContent = 'ready';
