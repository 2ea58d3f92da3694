// The decoder on native onnxruntime in Node (the optional peer onnxruntime-node): the same ONNX
// graph as the WASM backend, on the CPU's own vector units (several times faster than WASM), or on
// CUDA where onnxruntime-node's CUDA provider is installed.
import type * as Ort from 'onnxruntime-web';
import { fail } from '../errors.js';
import type { BackendDecoder, LatentSpace } from '../model/decoderTypes.js';
import type { DecoderWeights } from '../model/weights.js';
import { importNodeOnly, isNode } from '../platform.js';
import { errorMessage, OrtDecoder, type OrtModule, type OrtRuntime } from './ort.js';

export interface NativeDecoderOptions {
  /** onnxruntime's intra-op threads, >= 1 (default: every core onnxruntime sees). */
  readonly numThreads?: number;
  /**
   * `'cpu'` (default) or `'cuda'`: onnxruntime-node's CUDA provider, which needs its CUDA binaries
   * (install onnxruntime-node with `ONNXRUNTIME_NODE_INSTALL=cuda12` set on a CUDA 12 machine).
   */
  readonly executionProvider?: 'cpu' | 'cuda';
  /** Default latent space for the decode methods (default `'model'`). */
  readonly latentSpace?: LatentSpace;
  /** Largest activation decoded whole, in bytes (default 512 MiB: a 1448x1448 image's); larger images decode in exact row bands. */
  readonly maxBufferBytes?: number;
}

export interface NativeDecoder extends BackendDecoder {
  readonly backend: 'native';
  readonly executionProvider: string;
  /** Threads requested (0: onnxruntime's default, one per core). */
  readonly numThreads: number;
  /** How many row bands the last decode ran in (1 = whole). */
  readonly lastBandCount: number;
}

/** Past this, one activation crowds a typical machine's memory: band. */
const NATIVE_MAX_BYTES = 512 << 20;

let runtime: Promise<OrtModule> | null = null;

/** onnxruntime-node, loaded once; BACKEND_UNAVAILABLE outside Node or when it is not installed. */
export async function loadNativeRuntime(): Promise<OrtModule> {
  if (!isNode) fail('BACKEND_UNAVAILABLE', 'the native backend runs in Node only (onnxruntime-node); use wasm in browsers');
  runtime ??= importNodeOnly<OrtModule>('onnxruntime-node').catch((e: unknown) => {
    runtime = null;
    return fail('BACKEND_UNAVAILABLE', `the native backend needs the optional package onnxruntime-node: npm install onnxruntime-node@~1.30.0 (${errorMessage(e).split('\n')[0]})`, { cause: e });
  });
  return runtime;
}

/**
 * A decoder for `weights` on native onnxruntime: builds the graph (~20 ms) and a session
 * (~0.1 s). Fails with BACKEND_UNAVAILABLE without onnxruntime-node, BAD_OPTION for bad options,
 * IO when onnxruntime cannot start the session (e.g. the CUDA provider is not installed).
 */
export async function createNativeDecoder(weights: DecoderWeights, options: NativeDecoderOptions = {}): Promise<NativeDecoder> {
  const runtime = await nativeRuntime(options);
  return (await OrtDecoder.create(runtime, weights, options.latentSpace ?? 'model', options.maxBufferBytes ?? NATIVE_MAX_BYTES)) as NativeDecoder;
}

/** onnxruntime-node with `options`' threads and provider, as the image and video decoders run it. */
export async function nativeRuntime(options: NativeDecoderOptions): Promise<OrtRuntime> {
  const { numThreads, executionProvider = 'cpu' } = options;
  if (numThreads !== undefined && !(Number.isInteger(numThreads) && numThreads >= 1)) fail('BAD_OPTION', `native numThreads must be an integer >= 1, got ${String(numThreads)}`);
  if (executionProvider !== 'cpu' && executionProvider !== 'cuda') fail('BAD_OPTION', `native executionProvider must be 'cpu' or 'cuda', got ${String(executionProvider)}`);
  const ort = await loadNativeRuntime();
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    executionProviders: [executionProvider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    ...(numThreads !== undefined && { intraOpNumThreads: numThreads }),
  };
  return {
    ort, backend: 'native', library: 'onnxruntime-node', executionProvider, numThreads: numThreads ?? 0, sessionOptions, transfersInput: false,
    hint: (e) => (executionProvider === 'cuda' && /cuda/i.test(e) ? ' (is onnxruntime-node installed with its CUDA binaries? ONNXRUNTIME_NODE_INSTALL=cuda12)' : ''),
  };
}
