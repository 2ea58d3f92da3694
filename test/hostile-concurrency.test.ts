// Issue #19 item 1: WebGPU decoders created concurrently share one Dawn instance, so the process
// survives and every decoder decodes. Run in a child process: the old failure killed the process.
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { bundleForNode } from './support/bundle.js';
import { TAEF2_PTH } from './support/shared.js';

it('five WebGPU decoders created at once in one process all decode (real Dawn)', async () => {
  const child = await bundleForNode('test/support/concurrentGpuChild.ts');
  const r = spawnSync(process.execPath, ['--expose-gc', child, TAEF2_PTH, '5'], { encoding: 'utf8', timeout: 120_000 });
  expect({ status: r.status, signal: r.signal }, r.stderr.slice(-2000)).toEqual({ status: 0, signal: null });
  expect(JSON.parse(r.stdout)).toEqual({ sharedGpu: true, backends: Array(5).fill('webgpu'), sizes: Array(5).fill('40x32'), finite: true, same: true });
}, 300_000);
