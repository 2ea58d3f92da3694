// Times the wasm decoder on the 64x64 astronaut golden (512x512 out, ~142 GFLOP). Skipped unless
// TAESD_BENCH is set; ort fixes threads per process, so run it once per thread count:
//   TAESD_BENCH=1 TAESD_THREADS=1 npx vitest run test/fallback.bench-astronaut.test.ts
//   TAESD_BENCH=1 TAESD_THREADS=2 npx vitest run test/fallback.bench-astronaut.test.ts
import { expect, it } from 'vitest';
import { rawToRgba } from '../src/model/rgba.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { graphFlops, lowerDecoder } from '../src/model/graph.js';
import { readGolden, taef2Weights } from './support/fallbackFixtures.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED } from './support/shared.js';

const threads = Number(process.env.TAESD_THREADS ?? 2);

it.skipIf(!process.env.TAESD_BENCH || !HAS_SHARED)(`decodes taef2_astronaut on ${threads} thread(s)`, async () => {
  const weights = await taef2Weights();
  const golden = readGolden('taef2_astronaut');
  const decoder = await createWasmDecoder(weights, { numThreads: threads });
  expect(decoder.numThreads).toBe(threads);
  let start = performance.now();
  const raw = await decoder.decodeRaw(golden.latent);
  const first = performance.now() - start;
  const runs = 2;
  start = performance.now();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < runs; i++) await decoder.decodeRaw(golden.latent);
  const ms = (performance.now() - start) / runs;
  // CPU time (all of ort's threads) tells a busy machine from a slow decode.
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000 / runs;
  decoder.destroy();
  const rawError = maxAbsDiff(raw.data, golden.image.data);
  const levels = maxAbsDiff(rawToRgba(raw).data, rawToRgba(golden.image).data);
  const gflops = graphFlops(lowerDecoder(weights), 64, 64) / ms / 1e6;
  console.log(`wasm taef2_astronaut 64x64 on ${threads} thread(s): first ${first.toFixed(0)} ms, then ${ms.toFixed(0)} ms (${gflops.toFixed(1)} GFLOP/s, CPU ${cpuMs.toFixed(0)} ms); max abs ${rawError.toExponential(2)} raw, ${levels} level(s) 8-bit`);
  expect(rawError).toBeLessThanOrEqual(2e-3);
  expect(levels).toBeLessThanOrEqual(1);
}, 300_000);
