// ort fixes its thread count at the first session of a process: this file decodes on 1 thread,
// and a child process (support/ortChild.mjs) runs the same graph on 2.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { buildDecoderGraph, GRAPH_INPUT, GRAPH_OUTPUT } from '../src/fallback/onnxGraph.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { lowerDecoder } from '../src/model/graph.js';
import { readGolden, taef2Weights } from './support/fallbackFixtures.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, ROOT } from './support/shared.js';

it.skipIf(!HAS_SHARED)('decodes the same on 1 and 2 threads', async () => {
  const weights = await taef2Weights();
  const decoder = await createWasmDecoder(weights, { numThreads: 1 });
  expect(decoder.numThreads).toBe(1);
  const { latent } = readGolden('taef2_rand_8x8');
  const one = await decoder.decodeRaw(latent);
  decoder.destroy();

  const dir = mkdtempSync(join(tmpdir(), 'taesd-threads-'));
  try {
    writeFileSync(join(dir, 'model.onnx'), buildDecoderGraph(lowerDecoder(weights)));
    writeFileSync(join(dir, 'input.f32'), new Uint8Array(latent.data.buffer, latent.data.byteOffset, latent.data.byteLength));
    writeFileSync(join(dir, 'input.json'), JSON.stringify({ input: GRAPH_INPUT, output: GRAPH_OUTPUT, dims: [1, ...latent.shape] }));
    execFileSync(process.execPath, [join(ROOT, 'test/support/ortChild.mjs'), '2', dir], { stdio: 'inherit' });
    const two = new Float32Array(new Uint8Array(readFileSync(join(dir, 'output.f32'))).buffer);
    const diff = maxAbsDiff(one.data, two);
    console.log(`wasm taef2_rand_8x8, 1 vs 2 threads: max abs diff ${diff}`);
    // Not bit-exact: how the work is split changes some summation orders.
    expect(diff).toBeLessThanOrEqual(1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
