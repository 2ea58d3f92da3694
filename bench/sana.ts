// Sana (issue 14): a 16x16 latent (512x512 out) on every Node backend, each in a process of its
// own; random weights with upstream's shapes (../shared/models/test), so the times are real and
// the images are not. Outputs are compared with native's.   node dist/bench/sana.js [runs=3]
//   child: node dist/bench/sana.js --run <backend> <precision> <runs> <out.f32>
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDecoder, type BackendChoice, type Precision } from '../src/index.js';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { graphFlops, lowerDecoder } from '../src/model/graph.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { maxAbsDiff, median } from './latents.js';

const WEIGHTS = join(PACKAGE_ROOT, '../shared/models/test/taesana_randw_decoder.pth');
const SIZE = 16;

if (process.argv[2] === '--run') {
  const [, , , backend, precision, runsArg, out] = process.argv as [string, string, string, BackendChoice, Precision | 'auto', string, string];
  let seed = 1; // a fixed pseudo-random latent in [-2, 2)
  const data = Float32Array.from({ length: 32 * SIZE * SIZE }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 4 - 2);
  const latent = { data, shape: [32, SIZE, SIZE] };
  const t0 = performance.now();
  const decoder = await createDecoder({ model: 'taesana', weights: WEIGHTS, backend, precision, wasm: { numThreads: 2 } });
  const raw = await decoder.decodeRaw(latent);
  const coldMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < Number(runsArg); i++) {
    const t = performance.now();
    await decoder.decodeRaw(latent);
    times.push(performance.now() - t);
  }
  writeFileSync(out, new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength));
  console.log(JSON.stringify({ coldMs, medianMs: median(times), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  decoder.destroy();
  process.exit(0);
}

const runs = process.argv[2] ?? '3';
const gflop = graphFlops(lowerDecoder(resolveDecoderWeights(parseWeights(readFileSync(WEIGHTS)))), SIZE, SIZE) / 1e9;
const dir = mkdtempSync(join(tmpdir(), 'taesd-sana-'));
const rows: [string, BackendChoice, Precision | 'auto'][] = [['native (onnxruntime-node)', 'native', 'auto'], ['wasm, 2 threads (onnxruntime-web)', 'wasm', 'auto'], ['WGSL f32 (Dawn)', 'webgpu', 'f32'], ['WGSL f16 (Dawn)', 'webgpu', 'f16']];
console.log(`taesana, ${SIZE}x${SIZE} latent -> ${SIZE * 32}x${SIZE * 32}: ${gflop.toFixed(1)} GFLOP; median of ${runs} warm decodes (decodeRaw)\n`);
console.log('| backend | cold (create + first) | median | GFLOP/s | peak RSS | max abs vs native |\n| --- | ---: | ---: | ---: | ---: | ---: |');
let reference: Float32Array | null = null;
for (const [label, backend, precision] of rows) {
  const out = join(dir, `${backend}-${precision}.f32`);
  try {
    const line = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--run', backend, precision, runs, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
    const r = JSON.parse(line) as { coldMs: number; medianMs: number; peakRssMiB: number };
    const image = new Float32Array(readFileSync(out).buffer.slice(0));
    reference ??= image;
    const diff = maxAbsDiff(image, reference);
    console.log(`| ${label} | ${(r.coldMs / 1000).toFixed(2)} s | ${r.medianMs.toFixed(0)} ms | ${(gflop / (r.medianMs / 1000)).toFixed(1)} | ${r.peakRssMiB} MiB | ${diff.toExponential(1)} |`);
  } catch (e) {
    console.log(`| ${label} | failed: ${(e as Error).message.split('\n')[0]} | | | | |`);
  }
}
rmSync(dir, { recursive: true, force: true });
