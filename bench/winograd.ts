// Issue 10's experiment: Winograd F(2x2, 3x3) for the 64->64 convs on native onnxruntime, against
// onnxruntime's own Conv, side by side in one process. The Winograd path is a graph of its own:
// input transform V = Bt d B as a depthwise 4x4 stride-2 conv (16 outputs per channel), the 16
// element-wise products summed over channels as one batched MatMul with U = G g Gt, and the output
// transform Y = At M A as a MatMul and a pixel shuffle. 2.25x fewer multiplies in the main product.
//   node dist/bench/winograd.js [sizes=64,128,256] [repeats=5]
import { randomFillSync } from 'node:crypto';
import { loadNativeRuntime } from '../src/fallback/native.js';
import { GraphBuilder } from '../src/fallback/onnxGraph.js';

const sizes = (process.argv[2] ?? '64,128,256').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 5);
const C = 64, K = 64;
const ort = await loadNativeRuntime();

const Bt = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]];
const G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
const At = [[1, 1, 1, 0], [0, 1, -1, -1]];

function random(n: number, scale: number): Float32Array {
  const u = new Uint32Array(n);
  randomFillSync(u);
  return Float32Array.from(u, (v) => (v / 2 ** 32 - 0.5) * 2 * scale);
}

const weight = random(K * C * 9, Math.sqrt(2 / (C * 9)));
const bias = random(K, 0.1);

function directGraph(): Uint8Array {
  const b = new GraphBuilder();
  const y = b.node('Conv', ['x', b.initializer('w', [K, C, 3, 3], weight), b.initializer('b', [K], bias)], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv', 'y');
  return b.model('direct 3x3', 'x', [1, C, 'h', 'w'], y, [1, K, 'h', 'w']);
}

/** U[xi][k][c] = (G g Gt)[i][j] for xi = 4i + j. */
function transformedWeights(): Float32Array {
  const u = new Float32Array(16 * K * C);
  for (let k = 0; k < K; k++) for (let c = 0; c < C; c++) {
    const g = (r: number, s: number) => weight[((k * C + c) * 3 + r) * 3 + s]!;
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) {
      let v = 0;
      for (let r = 0; r < 3; r++) for (let s = 0; s < 3; s++) v += G[i]![r]! * g(r, s) * G[j]![s]!;
      u[((4 * i + j) * K + k) * C + c] = v;
    }
  }
  return u;
}

function winogradGraph(h: number, w: number): Uint8Array {
  const b = new GraphBuilder();
  const ht = h / 2, wt = w / 2, T = ht * wt;
  // V: depthwise conv, filter (c, xi) = Bt[i] (outer) Bt[j], stride 2 over the padded input.
  const filters = new Float32Array(C * 16 * 16);
  for (let c = 0; c < C; c++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++)
    for (let a = 0; a < 4; a++) for (let bb = 0; bb < 4; bb++) filters[((c * 16 + 4 * i + j) * 4 + a) * 4 + bb] = Bt[i]![a]! * Bt[j]![bb]!;
  let v = b.node('Conv', ['x', b.initializer('bt', [16 * C, 1, 4, 4], filters)], { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1], group: C });
  v = b.node('Reshape', [v, b.int64('s1', [C, 16, T])]);
  v = b.node('Transpose', [v], { perm: [1, 0, 2] }); // [16, C, T]
  let m = b.node('MatMul', [b.initializer('u', [16, K, C], transformedWeights()), v]); // [16, K, T]
  // Y = At M A: the 16 products to 4 outputs per tile, then the 2x2 outputs shuffled into place.
  const a = new Float32Array(4 * 16);
  for (let p = 0; p < 2; p++) for (let q = 0; q < 2; q++) for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) a[(2 * p + q) * 16 + 4 * i + j] = At[p]![i]! * At[q]![j]!;
  m = b.node('Reshape', [m, b.int64('s2', [16, K * T])]);
  let y = b.node('MatMul', [b.initializer('a', [4, 16], a), m]); // [4, K*T]
  y = b.node('Reshape', [y, b.int64('s3', [2, 2, K, ht, wt])]);
  y = b.node('Transpose', [y], { perm: [2, 3, 0, 4, 1] }); // [K, ht, 2, wt, 2]
  y = b.node('Reshape', [y, b.int64('s4', [1, K, h, w])]);
  y = b.node('Add', [y, b.initializer('bias', [1, K, 1, 1], bias)], {}, 'bias', 'y');
  return b.model('winograd F(2x2,3x3)', 'x', [1, C, h, w], y, [1, K, h, w]);
}

const options = { executionProviders: ['cpu'], graphOptimizationLevel: 'all' as const, logSeverityLevel: 3 as const };
const direct = await ort.InferenceSession.create(directGraph(), options);
console.log(`conv3x3 ${C}->${K} on onnxruntime-node (cpu), median of ${repeats}`);
for (const size of sizes) {
  const winograd = await ort.InferenceSession.create(winogradGraph(size, size), options);
  const x = new ort.Tensor('float32', random(C * size * size, 1), [1, C, size, size]);
  const run = async (s: typeof direct) => (await s.run({ x })).y!.data as Float32Array;
  const [yd, yw] = [await run(direct), await run(winograd)];
  let err = 0;
  for (let i = 0; i < yd.length; i++) err = Math.max(err, Math.abs(yd[i]! - yw[i]!));
  const times = { direct: [] as number[], winograd: [] as number[] };
  for (let r = 0; r < repeats; r++) {
    for (const [name, s] of [['direct', direct], ['winograd', winograd]] as const) {
      const t = performance.now();
      await run(s);
      times[name].push(performance.now() - t);
    }
  }
  const median = (a: number[]) => a.sort((p, q) => p - q)[Math.floor(a.length / 2)]!;
  const flops = 2 * 9 * C * K * size * size;
  const [d, w] = [median(times.direct), median(times.winograd)];
  console.log(`${size}x${size}: direct ${d.toFixed(1)} ms (${(flops / d / 1e6).toFixed(0)} GFLOP/s), winograd ${w.toFixed(1)} ms (${(flops / w / 1e6).toFixed(0)} effective GFLOP/s), ratio ${(w / d).toFixed(2)}, max abs diff ${err.toExponential(2)}`);
  await winograd.release();
}
process.exit(0);
