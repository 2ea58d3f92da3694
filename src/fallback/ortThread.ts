// onnxruntime-web's wasm backend in a Node worker thread, so a decode never blocks the event loop
// (in pages ort's own proxy worker does this; it has no Node version). Node only: loaded by
// wasm.ts where `isNode` is true, and it reaches Node's modules through importNodeOnly.
import type * as Ort from 'onnxruntime-web';
import { importNodeOnly } from '../platform.js';
import type { OrtModule } from './ort.js';

/** onnxruntime-web's one-time settings, applied in the worker before its first session. */
export interface OrtThreadInit {
  readonly numThreads: number;
  readonly wasmPaths?: Ort.Env.WebAssemblyFlags['wasmPaths'];
}

// The worker's code. `eval` workers run CommonJS, so it needs no file of its own next to the
// compiled module (none exists under vitest, which runs the .ts sources).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
ort.env.wasm.numThreads = workerData.numThreads;
if (workerData.wasmPaths !== undefined) ort.env.wasm.wasmPaths = workerData.wasmPaths;
const sessions = new Map();
async function handle(m) {
  if (m.op === 'create') {
    sessions.set(m.id, await ort.InferenceSession.create(m.bytes, m.options));
    return [{}, []];
  }
  const session = sessions.get(m.session);
  if (!session) throw new Error('session ' + m.session + ' was released');
  if (m.op === 'release') {
    sessions.delete(m.session);
    await session.release();
    return [{}, []];
  }
  const feeds = {};
  for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  const outputs = {};
  const transfer = [];
  for (const [name, t] of Object.entries(await session.run(feeds))) {
    // Move a buffer only when the output owns all of it alone; else move a copy.
    const own = t.data.buffer instanceof ArrayBuffer && t.data.byteOffset === 0 && t.data.byteLength === t.data.buffer.byteLength && !transfer.includes(t.data.buffer);
    const data = own ? t.data : t.data.slice();
    outputs[name] = { type: t.type, data, dims: t.dims };
    transfer.push(data.buffer);
  }
  return [{ outputs }, transfer];
}
parentPort.on('message', (m) => {
  handle(m).then(
    ([reply, transfer]) => parentPort.postMessage({ id: m.id, ...reply }, transfer),
    (e) => parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
`;

interface WireTensor { readonly type: Ort.Tensor.Type; readonly data: Ort.Tensor.DataType; readonly dims: readonly number[] }
interface Reply { readonly id: number; readonly error?: string; readonly outputs?: Record<string, WireTensor> }
type Request =
  | { op: 'create'; bytes: Uint8Array; options: Ort.InferenceSession.SessionOptions }
  | { op: 'run'; session: number; feeds: Record<string, WireTensor> }
  | { op: 'release'; session: number };

/**
 * An OrtModule whose sessions run in one worker thread (started here, with `init`). The worker
 * holds the process open only while a request is in flight.
 */
export async function ortInThread(init: OrtThreadInit): Promise<OrtModule> {
  const [{ Worker }, { createRequire }, ort] = await Promise.all([
    importNodeOnly<typeof import('node:worker_threads')>('node:worker_threads'),
    importNodeOnly<typeof import('node:module')>('node:module'),
    importNodeOnly<typeof Ort>('onnxruntime-web'),
  ]);
  const ortPath = createRequire(import.meta.url).resolve('onnxruntime-web');
  // URL objects do not cross to a worker: their strings do.
  const wasmPaths = typeof init.wasmPaths === 'object' ? Object.fromEntries(Object.entries(init.wasmPaths).map(([k, v]) => [k, String(v)])) : init.wasmPaths;
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath, numThreads: init.numThreads, wasmPaths } });
  worker.unref();
  const pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let broken: Error | null = null;
  const settle = (id: number) => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return p;
  };
  worker.on('message', (r: Reply) => {
    const p = settle(r.id);
    if (r.error !== undefined) p?.reject(new Error(r.error));
    else p?.resolve(r);
  });
  const breakAll = (e: Error) => {
    broken = e;
    for (const id of [...pending.keys()]) settle(id)?.reject(e);
  };
  worker.on('error', breakAll);
  worker.on('exit', (code) => breakAll(new Error(`onnxruntime-web's worker thread exited (code ${code})`)));

  const call = (request: Request, transfer: ArrayBuffer[] = []): Promise<Reply> => {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    if (pending.size === 0) worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request }, transfer);
    });
  };

  const create = async (bytes: Uint8Array, options: Ort.InferenceSession.SessionOptions = {}) => {
    // The create request's id (taken synchronously by call) names the session in the worker.
    const session = nextId;
    await call({ op: 'create', bytes, options });
    return {
      async run(feeds: Record<string, Ort.Tensor>) {
        const wire: Record<string, WireTensor> = {};
        const transfer: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          wire[name] = { type: t.type, data: t.data, dims: t.dims };
          // The decoders hand over copies (transfersInput), so their buffers can move; a view into
          // a larger buffer is copied by postMessage instead, never detached.
          const view = ArrayBuffer.isView(t.data) ? t.data : null;
          const whole = view !== null && view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
          if (whole && !transfer.includes(view.buffer as ArrayBuffer)) transfer.push(view.buffer as ArrayBuffer);
        }
        const { outputs = {} } = await call({ op: 'run', session, feeds: wire }, transfer);
        return Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as Float32Array, t.dims)]));
      },
      async release() {
        await call({ op: 'release', session });
      },
    };
  };
  // The decoder (ort.ts) uses only create, run and release of a session.
  return { InferenceSession: { create }, Tensor: ort.Tensor } as unknown as OrtModule;
}
