// The decoder on onnxruntime-web: its wasm backend everywhere, its webgpu execution provider in
// browsers (for comparisons). The graph comes from the weights (onnxGraph.ts); no model files.
import type * as Ort from 'onnxruntime-web';
import { fail } from '../errors.js';
import type { BackendDecoder, LatentSpace } from '../model/decoderTypes.js';
import type { DecoderWeights } from '../model/weights.js';
import { importNodeOnly, isNode } from '../platform.js';
import { OrtDecoder, type OrtModule, type OrtRuntime } from './ort.js';

export type OrtExecutionProvider = 'wasm' | 'webgpu';

export interface WasmDecoderOptions {
  /**
   * Threads of onnxruntime-web's wasm backend, >= 1. Default: the cores, at most 4, in Node and in
   * cross-origin isolated pages; 1 in other pages (no SharedArrayBuffer there, so no threads).
   * Takes effect only at the first decoder (first ort session) in a page or process; later
   * decoders share that runtime, and their `numThreads` says what it runs with.
   * Cost: a 64x64 taef2 latent is 142 GFLOP: ~4 s on one idle core, ~2 s on two (more when busy).
   */
  readonly numThreads?: number;
  /**
   * Where the app serves onnxruntime-web's `.wasm` (`ort.env.wasm.wasmPaths`; read only at the
   * first decoder): per-file URLs, or a URL prefix ending in `/`. Nothing is fetched from a CDN.
   * Default: next to onnxruntime-web's module (`import.meta.url`), which is right in Node and in
   * Vite dev and build. In pages the `'wasm'` provider runs `onnxruntime-web/wasm`, whose `.mjs`
   * glue is inline, so only `ort-wasm-simd-threaded.wasm` (~14 MB) is fetched, once per page;
   * `'webgpu'` runs the default build and fetches `ort-wasm-simd-threaded.jsep.wasm` (~28 MB).
   * To serve it explicitly with Vite:
   * ```ts
   * import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url'; // Vite emits it as an asset
   * const decoder = await createWasmDecoder(weights, { wasmPaths: { wasm } });
   * ```
   * or copy `node_modules/onnxruntime-web/dist/*.wasm` to `public/ort/` and pass `'/ort/'`.
   * Threads need a cross-origin isolated page: `server.headers` (and `preview.headers`) with
   * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`.
   */
  readonly wasmPaths?: string | { readonly wasm?: string | URL; readonly mjs?: string | URL };
  /**
   * `'wasm'` (default) or, in browsers with WebGPU, `'webgpu'`: onnxruntime-web's own WebGPU
   * kernels on the same graph, for comparison with taesd-web's. Not available in Node (NO_WEBGPU).
   */
  readonly executionProvider?: OrtExecutionProvider;
  /**
   * The onnxruntime-web build that runs the `'webgpu'` provider, imported by the app:
   * `onnxruntime: await import('onnxruntime-web')`. Required with it, so that apps which never use
   * it do not bundle that build (its ~28 MB `.wasm`); the `'wasm'` provider ignores it.
   */
  readonly onnxruntime?: typeof Ort;
  /** Default latent space for `decode`/`decodeRaw` (default `'model'`). */
  readonly latentSpace?: LatentSpace;
  /**
   * Run onnxruntime-web in a worker of its own, so a decode never blocks the page or Node's event
   * loop: default true. In pages that is ort's proxy worker, in Node a worker thread (ortThread.ts).
   * Read only at the first decoder. The webgpu execution provider always runs on the calling thread.
   */
  readonly worker?: boolean;
  /** Largest activation decoded whole, in bytes (default 128 MiB: a 512x512 image's); larger images decode in exact row bands. */
  readonly maxBufferBytes?: number;
}

/** A `LatentDecoder` on onnxruntime-web. `backend` is `'wasm'` whichever execution provider runs it. */
export interface WasmDecoder extends BackendDecoder {
  readonly backend: 'wasm';
  readonly executionProvider: OrtExecutionProvider;
  /** Threads the wasm backend runs with in this page or process (fixed by its first decoder). */
  readonly numThreads: number;
  /** How many row bands the last decode ran in (1 = whole). */
  readonly lastBandCount: number;
}

interface Runtime {
  readonly ort: OrtModule;
  readonly numThreads: number;
  readonly worker: boolean;
}

/** wasm32 holds at most 4 GiB, and onnxruntime keeps several activations alive: band past 128 MiB each. */
const WASM_MAX_BYTES = 128 << 20;

/** Largest default thread count; past 4 the convs gain little and the page loses its cores. */
const MAX_DEFAULT_THREADS = 4;

/** One runtime per execution provider: each is its own onnxruntime-web instance in a page. */
const runtimes = new Map<OrtExecutionProvider, Promise<Runtime>>();

async function defaultThreads(): Promise<number> {
  if (isNode) {
    const os = await importNodeOnly<typeof import('node:os')>('node:os');
    return Math.min(MAX_DEFAULT_THREADS, os.availableParallelism());
  }
  return globalThis.crossOriginIsolated ? Math.min(MAX_DEFAULT_THREADS, navigator.hardwareConcurrency || 1) : 1;
}

/**
 * onnxruntime-web for one execution provider, with its one-time settings made. Each environment
 * imports only the build it runs, so bundlers emit no other: in Node the package's node build, by
 * a name bundlers do not see (in a worker thread unless `worker: false`); in pages the wasm-only
 * build (`onnxruntime-web/wasm`, an instance of its own, so its settings never touch an
 * `onnxruntime-web` the app itself uses), and for `'webgpu'` the build the app passed.
 */
async function importOrt(options: WasmDecoderOptions, ep: OrtExecutionProvider, numThreads: number): Promise<Runtime> {
  const wasmPaths = options.wasmPaths;
  const configure = (ort: typeof Ort, proxy: boolean): Runtime => {
    ort.env.wasm.numThreads = numThreads;
    if (wasmPaths !== undefined) ort.env.wasm.wasmPaths = wasmPaths;
    ort.env.wasm.proxy = proxy;
    return { ort, numThreads, worker: proxy };
  };
  if (isNode) {
    if (options.worker === false) return configure(await importNodeOnly<typeof Ort>('onnxruntime-web'), false);
    const { ortInThread } = await import('./ortThread.js');
    return { ort: await ortInThread({ numThreads, ...(wasmPaths !== undefined && { wasmPaths }) }), numThreads, worker: true };
  }
  if (ep === 'webgpu') return configure(options.onnxruntime!, false);
  return configure((await import('onnxruntime-web/wasm')) as typeof Ort, options.worker ?? true);
}

/** Loads onnxruntime-web and sets its one-time options; later calls get the same runtime (or, after a failure, try again). */
function loadRuntime(options: WasmDecoderOptions, ep: OrtExecutionProvider): Promise<Runtime> {
  let runtime = runtimes.get(ep);
  if (!runtime) {
    runtime = (async () => {
      const requested = options.numThreads ?? (await defaultThreads());
      // Without cross-origin isolation ort would warn and drop to 1 thread; say 1 up front.
      return importOrt(options, ep, isNode || globalThis.crossOriginIsolated ? requested : 1);
    })();
    runtimes.set(ep, runtime);
    // A failed load (a missing wasm file, a network error) is not kept: the next decoder retries.
    const loading = runtime;
    loading.catch(() => { if (runtimes.get(ep) === loading) runtimes.delete(ep); });
  }
  return runtime;
}

function checkOptions(options: WasmDecoderOptions): OrtExecutionProvider {
  const { numThreads, executionProvider = 'wasm' } = options;
  if (numThreads !== undefined && !(Number.isInteger(numThreads) && numThreads >= 1)) {
    fail('BAD_OPTION', `numThreads must be an integer >= 1, got ${String(numThreads)}`);
  }
  if (executionProvider !== 'wasm' && executionProvider !== 'webgpu') {
    fail('BAD_OPTION', `executionProvider must be 'wasm' or 'webgpu', got ${String(executionProvider)}`);
  }
  if (executionProvider === 'webgpu' && (isNode || typeof navigator === 'undefined' || !('gpu' in navigator))) {
    fail('NO_WEBGPU', "onnxruntime-web's webgpu execution provider needs a browser with WebGPU (navigator.gpu); use executionProvider 'wasm'");
  }
  if (executionProvider === 'webgpu' && options.onnxruntime === undefined) {
    fail('BAD_OPTION', "executionProvider 'webgpu' needs the onnxruntime-web build that runs it: pass onnxruntime: await import('onnxruntime-web')");
  }
  return executionProvider;
}

/**
 * A decoder for `weights` on onnxruntime-web. Builds the ONNX graph (~20 ms) and an ort session
 * (taef2: ~0.1 s in Node; the first one in a page also loads the runtime). Decodes run one at a
 * time, in call order. Fails with BAD_OPTION for out-of-range options, NO_WEBGPU for the webgpu
 * provider outside a WebGPU browser, IO when onnxruntime-web cannot start (e.g. wasm files not
 * served where `wasmPaths` says).
 */
export async function createWasmDecoder(weights: DecoderWeights, options: WasmDecoderOptions = {}): Promise<WasmDecoder> {
  return (await OrtDecoder.create(await wasmRuntime(options), weights, options.latentSpace ?? 'model', options.maxBufferBytes ?? WASM_MAX_BYTES)) as WasmDecoder;
}

/** onnxruntime-web with `options`' provider, as the image and video decoders run it. */
export async function wasmRuntime(options: WasmDecoderOptions): Promise<OrtRuntime> {
  const executionProvider = checkOptions(options);
  const { ort, numThreads, worker } = await loadRuntime(options, executionProvider);
  return {
    ort, backend: 'wasm', library: 'onnxruntime-web', executionProvider, numThreads, transfersInput: worker,
    sessionOptions: { executionProviders: [executionProvider], graphOptimizationLevel: 'all', logSeverityLevel: 3 },
    // ort says "no available backend found" when its .wasm could not be fetched or compiled.
    hint: (e) => (/backend/i.test(e) ? ' (are its .wasm files served where wasmPaths says?)' : ''),
  };
}
