// The WebGPU plan without a device (issue 20, items 5 and 6): dispatch sizes inside WebGPU's
// default 65,535 workgroups per dimension for the largest batch of the narrowest latents, and
// uniform blocks laid out by WGSL's rules from their one declaration.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONV, tiledConv, type ConvVariant } from '../src/gpu/conv.js';
import { dispatchSpecs } from '../src/gpu/plan.js';
import { buildProgram, type ConvStep } from '../src/gpu/program.js';
import { scheduleDecode } from '../src/gpu/schedule.js';
import { CONV_DIMS, LINEAR_PARAMS } from '../src/gpu/uniforms.js';
import { lowerDecoder } from '../src/model/graph.js';
import { MAX_BATCH, MAX_LATENT_SIDE } from '../src/model/latent.js';
import { MODELS } from '../src/model/registry.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { randomStateDict } from './support/random.js';

/** WebGPU's default (and lavapipe's) maxComputeWorkgroupsPerDimension. */
const DEFAULT_LIMIT = 65535;

describe('dispatch sizes', () => {
  const program = buildProgram(lowerDecoder(resolveDecoderWeights(randomStateDict(MODELS.taesd, 3), { model: 'taesd' })));
  const [n, h, w] = [MAX_BATCH, MAX_LATENT_SIDE, 1];
  const sched = scheduleDecode(program, n, h, w, 16, Infinity);
  it.each([['direct', DEFAULT_CONV], ['tiled', tiledConv(4, 2, 1)]] as [string, ConvVariant][])(
    'a batch of %i narrow latents stays inside the limit with the %s kernel', (_name, variant) => {
      const kernels = new Map(program.steps.filter((s): s is ConvStep => s.kind === 'conv').map((s) => [s, variant]));
      const specs = dispatchSpecs(program, sched, 'f32', n, h, w, kernels);
      const largest = Math.max(...specs.flatMap((s) => s.workgroups));
      expect(largest).toBeLessThanOrEqual(DEFAULT_LIMIT);
      // The full-resolution convs cover every output row of every item.
      const last = specs.at(-1)!;
      const rows = last.conv!.dims.outRows;
      expect(rows).toBe(h * 8);
    });
});

describe('declared uniforms', () => {
  it('generate the WGSL struct and write each field at its WGSL offset', () => {
    expect(CONV_DIMS.wgsl).toContain('struct Dims {\n  in_w: u32,\n  in_row0: i32,');
    expect(CONV_DIMS.bytes).toBe(48);
    const data = new DataView(CONV_DIMS.write({ in_row0: -3, skip_rows: 7 }));
    expect(data.getInt32(4, true)).toBe(-3);
    expect(data.getUint32(40, true)).toBe(7);
  });

  it('align a vec4f to 16 bytes and append a trailing array', () => {
    expect(LINEAR_PARAMS.wgsl).toContain('factors: array<vec4f, CHANNELS>,');
    const rows = [[1, 2, 3], [4, 5, 6]];
    const data = new Float32Array(LINEAR_PARAMS.write({ width: 5, bias: [0.5, 0.25, 0.125] }, rows));
    expect(new Uint32Array(data.buffer, 0, 1)[0]).toBe(5);
    expect([...data.subarray(4, 7)]).toEqual([0.5, 0.25, 0.125]);
    expect([...data.subarray(8, 11)]).toEqual([1, 2, 3]);
    expect([...data.subarray(12, 15)]).toEqual([4, 5, 6]);
  });
});
