// Where a WebGPU decode spends its GPU time, per kernel: every dispatch runs in a compute pass of
// its own with timestamp writes (the adapter needs 'timestamp-query'), summed by pipeline. Bench
// only: it wraps the device's command encoders, so the times include one pass per dispatch.
//   node dist/bench/gpuProfile.js video WEIGHTS FRAMES H,W [full|preview]     (taew2_1, NCTHW latent)
//   node dist/bench/gpuProfile.js image WEIGHTS SIZE                          (taef2, 32-channel latent)
// PRECISION=f16 in the environment profiles f16 storage (the adapter needs 'shader-f16').
import { readFileSync } from 'node:fs';
import { createDecoder } from '../src/decoder.js';
import { getGpu } from '../src/gpu/device.js';
import { createVideoDecoder } from '../src/videoDecoder.js';

const [what, weightsFile, a, b, setting = 'full'] = process.argv.slice(2) as [string, string, string, string?, string?];
const QUERIES = 4096;

const gpu = await getGpu();
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter?.features.has('timestamp-query')) throw new Error('this adapter has no timestamp-query');
const precision = process.env.PRECISION === 'f16' ? 'f16' : 'f32';
if (precision === 'f16' && !adapter.features.has('shader-f16')) throw new Error('PRECISION=f16: this adapter has no shader-f16');
const device = await adapter.requestDevice({
  requiredFeatures: precision === 'f16' ? ['timestamp-query', 'shader-f16'] : ['timestamp-query'],
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
});
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.description}, ${precision}`);

/** Nanoseconds and dispatches per kernel, filled as the readbacks of each encoder's queries land. */
const totals = new Map<string, { ns: number; n: number }>();
const pending: Promise<void>[] = [];
let recording = false;

/** A kernel's name and the parameters that tell its shapes apart (from the pipeline label `taesd NAME {params}`). */
function kernelOf(label: string): string {
  const m = /^taesd (\S+) (\{.*\})$/.exec(label);
  if (!m) return label;
  const p = JSON.parse(m[2]!) as Record<string, unknown>;
  const keys = ['K', 'CIN_BLOCKS', 'COUT_BLOCKS', 'TP', 'TB', 'KB', 'WG_X', 'WG_Y', 'PIX', 'OB', 'MODE', 'CB'];
  return `${m[1]} ${keys.filter((k) => k in p).map((k) => `${k}=${String(p[k])}`).join(' ')}`;
}

/** What to do once a command buffer is submitted: map its query readback. */
const submitted = new WeakMap<GPUCommandBuffer, () => void>();
const submit = device.queue.submit.bind(device.queue);
device.queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
  const list = [...buffers];
  submit(list);
  for (const b of list) submitted.get(b)?.();
};

const createEncoder = device.createCommandEncoder.bind(device);
device.createCommandEncoder = (descriptor?: GPUCommandEncoderDescriptor) => {
  const encoder = createEncoder(descriptor);
  if (!recording) return encoder;
  const querySet = device.createQuerySet({ type: 'timestamp', count: QUERIES });
  const names: string[] = [];
  const begin = encoder.beginComputePass.bind(encoder);
  encoder.beginComputePass = () => {
    let pipeline: GPUComputePipeline | null = null, group: GPUBindGroup | null = null;
    // One pass per dispatch, each timed; what the wrapped pass is told is replayed into it.
    return {
      setPipeline: (p: GPUComputePipeline) => void (pipeline = p),
      setBindGroup: (_i: number, g: GPUBindGroup | null) => void (group = g),
      dispatchWorkgroups: (x: number, y = 1, z = 1) => {
        const i = names.length;
        if (2 * i + 1 >= QUERIES) throw new Error('too many dispatches in one encoder');
        const pass = begin({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
        pass.setPipeline(pipeline!);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(x, y, z);
        pass.end();
        names.push(kernelOf(pipeline!.label));
      },
      end: () => undefined,
    } as unknown as GPUComputePassEncoder;
  };
  const finish = encoder.finish.bind(encoder);
  encoder.finish = (d?: GPUCommandBufferDescriptor) => {
    if (names.length) {
      const bytes = names.length * 16;
      const resolved = device.createBuffer({ size: bytes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
      const read = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      encoder.resolveQuerySet(querySet, 0, names.length * 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, read, 0, bytes);
      const buffer = finish(d);
      submitted.set(buffer, () => pending.push(read.mapAsync(GPUMapMode.READ).then(() => {
        const t = new BigUint64Array(read.getMappedRange());
        names.forEach((name, i) => {
          const s = totals.get(name) ?? { ns: 0, n: 0 };
          totals.set(name, { ns: s.ns + Number(t[2 * i + 1]! - t[2 * i]!), n: s.n + 1 });
        });
        read.destroy(); resolved.destroy(); querySet.destroy();
      })));
      return buffer;
    }
    return finish(d);
  };
  return encoder;
};

function seeded(n: number): Float32Array {
  let s = 7;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296) * 4 - 2);
}

let run: () => Promise<unknown>;
if (what === 'video') {
  const [frames, [h, w]] = [Number(a), b!.split(',').map(Number) as [number, number]];
  const decoder = await createVideoDecoder({ weights: readFileSync(weightsFile), model: 'taew2_1', backend: 'webgpu', webgpu: { device, precision } });
  const latent = { data: seeded(16 * frames * h * w), shape: [1, 16, frames, h, w] };
  const opts = setting === 'preview' ? { timeScale: 0.25, scale: 0.5 } : {};
  run = () => decoder.decodeVideo(latent, opts);
} else {
  const size = Number(a);
  const decoder = await createDecoder({ weights: readFileSync(weightsFile), model: 'taef2', backend: 'webgpu', device, precision });
  const latent = { data: seeded(32 * size * size), shape: [32, size, size] };
  run = () => decoder.decode(latent);
}

await run(); // compiles and tunes
recording = true;
const t0 = performance.now();
await run();
const wallMs = performance.now() - t0;
await Promise.all(pending);
const rows = [...totals].sort((x, y) => y[1].ns - x[1].ns);
const gpuMs = rows.reduce((t, [, s]) => t + s.ns, 0) / 1e6;
console.log(`${what} ${process.argv.slice(4).join(' ')}: wall ${wallMs.toFixed(1)} ms, GPU (sum of timed dispatches) ${gpuMs.toFixed(1)} ms`);
for (const [name, s] of rows) console.log(`${(s.ns / 1e6).toFixed(2).padStart(9)} ms ${String(s.n).padStart(5)}x  ${name}`);
device.destroy();
process.exit(0);
