// GFLOP/s of one conv layer (3x3 64->64 by default) on this machine's WebGPU adapter, for conv
// kernel variants: ids from CONV_VARIANTS, or ad hoc `direct-PIXxOB` / `tiled-TPxTB-kKB[-f16][-wgXxY]`.
//   node dist/bench/conv.js [size=64] [repeats=10] [cin=64] [cout=64]      VARIANTS=id,id,...
import { convDimsData, convDispatch, convPipeline, CONV_VARIANTS, directConv, tiledConv, type ConvShape, type ConvVariant } from '../src/gpu/conv.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { encodeDispatches } from '../src/gpu/kernels.js';

const [size, repeats, cin, cout] = [64, 10, 64, 64].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number];

function variant(id: string): ConvVariant {
  const known = CONV_VARIANTS.find((v) => v.id === id);
  if (known) return known;
  const direct = /^direct-(\d+)x(\d+)(?:-wg(\d+)x(\d+))?$/.exec(id);
  if (direct) return directConv(...(direct.slice(1).filter(Boolean).map(Number) as [number, number]));
  const tiled = /^tiled-(\d+)x(\d+)-k(\d+)(-f16)?(?:-wg(\d+)x(\d+))?$/.exec(id);
  if (!tiled) throw new Error(`not a variant: ${id}`);
  const [, tp, tb, kb, f16, wx, wy] = tiled;
  return tiledConv(Number(tp), Number(tb), Number(kb), !!f16, Number(wx ?? 8), Number(wy ?? 8));
}

const { adapter, device } = await requestGpuDevice();
const conv = { key: 'bench', cin, cout, k: 3, weight: new Float32Array(cout * cin * 9).fill(0.01), bias: new Float32Array(cout) };
const [cb, ob] = [Math.ceil(cin / 4), Math.ceil(cout / 4)];
const dims = { inW: size, inRow0: 0, outW: size, outH: size, outRow0: 0, outRows: size, dstRow0: 0, skipRow0: 0, inRows: size, dstRows: size, skipRows: size, batch: 1 };
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const mk = (n: number, u = usage) => device.createBuffer({ size: Math.ceil(n / 16) * 16, usage: u });
const uniforms = mk(256, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
device.queue.writeBuffer(uniforms, 0, convDimsData(dims));
const src = mk((cb + size * size * cb) * 16), dst = mk((cb + size * size * ob) * 16);

const flops = 2 * 9 * cin * cout * size * size;
const ids = (process.env.VARIANTS ?? CONV_VARIANTS.map((v) => v.id).join(',')).split(',').filter(Boolean);
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}; conv3x3 ${cin}->${cout} at ${size}x${size}`);
for (const id of ids) {
  const v = variant(id);
  const precision = id.endsWith('-f16') || process.env.PRECISION === 'f16' ? 'f16' : 'f32';
  if (precision === 'f16' && !device.features.has('shader-f16')) continue;
  const shape: ConvShape = { k: 3, cinBlocks: cb, coutBlocks: ob, upsample: false, relu: true, residual: false, normGroups: 0, precision, outputF32: false, zeroVec4s: cb, prevConcat: false };
  const why = v.refuses(shape);
  if (why) { console.log(`${id}: refused (${why})`); continue; }
  const packed = v.pack(conv, null);
  const weights = mk(packed.byteLength);
  device.queue.writeBuffer(weights, 0, packed as Float32Array<ArrayBuffer>);
  const params = v.params(shape);
  const c0 = performance.now();
  await convPipeline(device, v, params);
  const compileMs = performance.now() - c0;
  const d = convDispatch(device, 'bench conv', v, params, dims, { dims: { buffer: uniforms }, src, weights, dst });
  const run = async (n: number) => {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < n; i++) encodeDispatches(encoder, [d]);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run(1);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await run(repeats);
  const ms = (performance.now() - t0) / repeats;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / repeats;
  console.log(`${id.padEnd(22)} ${precision}: ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(flops / cpuMs / 1e6).toFixed(1)} per CPU-s), compile ${compileMs.toFixed(0)} ms`);
  weights.destroy();
}
device.destroy();
