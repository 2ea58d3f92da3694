// GFLOP/s of one 3x3 conv (64->64 by default) at a given size on this machine's WebGPU adapter,
// for a range of kernel shapes.  node dist/bench/conv.js [size=64] [repeats=10]
import { convDimsData, convDispatch, convPipeline, DEFAULT_CONV, directConv, type ConvShape } from '../src/gpu/conv.js';
import { requestGpuDevice } from '../src/gpu/device.js';
import { encodeDispatches } from '../src/gpu/kernels.js';

const size = Number(process.argv[2] ?? 64);
const repeats = Number(process.argv[3] ?? 10);
const { adapter, device } = await requestGpuDevice();
const cin = 64, cout = 64;
const conv = { key: 'bench', cin, cout, k: 3, weight: new Float32Array(cout * cin * 9).fill(0.01), bias: new Float32Array(cout) };
const ZERO_VEC4S = 16;
const dims = { inW: size, inRow0: 0, outW: size, outH: size, outRow0: 0, outRows: size, dstRow0: 0, skipRow0: 0, inRows: size, dstRows: size, skipRows: size, batch: 1 };
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
const bytes = (ZERO_VEC4S + size * size * 16) * 16;
const mk = (n: number, u = usage) => device.createBuffer({ size: n, usage: u });
const uniforms = mk(256, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
device.queue.writeBuffer(uniforms, 0, convDimsData(dims) as Int32Array<ArrayBuffer>);
const src = mk(bytes), dst = mk(bytes);

const flops = 2 * 9 * cin * cout * size * size;
console.log(`adapter: ${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`);
const shapes = (process.env.SHAPES ?? '').split(',').filter(Boolean).map((s) => s.split('x').map(Number) as [number, number, number, number]);
for (const precision of ['f32', 'f16'] as const) for (const shape of shapes.length ? shapes : [undefined]) {
  if (precision === 'f16' && !device.features.has('shader-f16')) continue;
  const convShape: ConvShape = { k: 3, cinBlocks: 16, coutBlocks: 16, upsample: false, relu: true, residual: false, normGroups: 0, precision, outputF32: false, zeroVec4s: ZERO_VEC4S };
  // SHAPES=PIXxOBxWG_XxWG_Y,... tries other kernel shapes than the decoder's
  const variant = shape ? directConv(...shape) : DEFAULT_CONV;
  const packed = variant.pack(conv, null);
  const weights = mk(packed.byteLength);
  device.queue.writeBuffer(weights, 0, packed as Float32Array<ArrayBuffer>);
  const params = variant.params(convShape);
  await convPipeline(device, variant, params);
  const d = convDispatch(device, 'bench conv', variant, params, dims, { dims: { buffer: uniforms }, src, weights, dst });
  const run = async (n: number) => {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < n; i++) encodeDispatches(encoder, [d]);
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await run(1);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await run(repeats);
  const ms = (performance.now() - t0) / repeats;
  const cpu = process.cpuUsage(c0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / repeats;
  console.log(`conv3x3 ${cin}->${cout} at ${size}x${size} ${precision} (PIX ${params.PIX}, OB ${params.OB}, WG ${params.WG_X}x${params.WG_Y}): ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s (${(flops / cpuMs / 1e6).toFixed(1)} GFLOP per CPU-s)`);
}
device.destroy();
