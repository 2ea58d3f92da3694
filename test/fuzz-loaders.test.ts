// A seeded, time-bounded fuzz of the weights and latent loaders (see support/fuzzLoaders.ts):
// it fails on any error that is not a TaesdError, on a case that hangs or runs long, and on a
// memory spike. CI runs a few thousand cases; run longer with, e.g.,
// TAESD_FUZZ_CASES=200000 TAESD_FUZZ_SECONDS=600 TAESD_FUZZ_SEED=7 npx vitest run test/fuzz-loaders.test.ts
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { expect, test } from 'vitest';
import { bundleForNode } from './support/bundle.js';
import type { FuzzSummary } from './support/fuzzLoaders.js';
import { SHARED } from './support/shared.js';

const SEED = Number(process.env.TAESD_FUZZ_SEED ?? 1);
const CASES = Number(process.env.TAESD_FUZZ_CASES ?? 3000);
const SECONDS = Number(process.env.TAESD_FUZZ_SECONDS ?? 20);
/** Generous bounds that still catch a hang or a blow-up: the loaders cap what a file may cost. */
const MAX_CASE_MS = 2000;
const MAX_RSS_MIB = 400;

test(`fuzz: ${CASES} loader cases from seed ${SEED}, typed errors only, bounded time and memory`, async () => {
  const script = await bundleForNode('test/support/fuzzLoaders.ts');
  // A small heap: a case that builds big JS objects dies here instead of passing slowly.
  const child = spawn(process.execPath, ['--max-old-space-size=256', script, String(SEED), String(CASES), String(SECONDS)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TAESD_SHARED: SHARED }, // the bundle cannot find ../shared from where it lives
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let last = '';
  let summary: FuzzSummary | null = null;
  const killer = setTimeout(() => child.kill('SIGKILL'), (SECONDS + 30) * 1000);
  for await (const line of createInterface({ input: child.stdout })) {
    if (line.startsWith('{')) summary = JSON.parse(line) as FuzzSummary;
    else last = line;
  }
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  clearTimeout(killer);
  expect(summary, `the fuzzer died or hung at ${last} (seed ${SEED}), exit ${code}: ${stderr.slice(-2000)}`).not.toBeNull();
  const s = summary!;
  console.log(`fuzz seed ${SEED}: ${s.cases} cases, outcomes ${JSON.stringify(s.outcomes)}, slowest ${s.slowest.ms.toFixed(0)} ms (case ${s.slowest.case}, ${s.slowest.seed}), peak RSS ${s.peakRssMiB.toFixed(0)} MiB`);
  expect(s.untyped).toEqual([]);
  expect(s.slowest.ms).toBeLessThan(MAX_CASE_MS);
  expect(s.peakRssMiB).toBeLessThan(MAX_RSS_MIB);
  // The mutations reach past the first checks: some files still load, and several codes appear.
  expect(s.outcomes['ok'] ?? 0).toBeGreaterThan(0);
  expect(s.outcomes['WEIGHTS_CORRUPT'] ?? 0).toBeGreaterThan(0);
  expect(s.outcomes['WEIGHTS_UNSAFE'] ?? 0).toBeGreaterThan(0);
  expect(s.outcomes['LATENT_CORRUPT'] ?? 0).toBeGreaterThan(0);
  expect(s.outcomes['LATENT_OUT_OF_RANGE'] ?? 0).toBeGreaterThan(0);
});
