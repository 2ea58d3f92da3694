// The .npy latent reader: the dtypes and versions numpy writes, and every layout it refuses, each
// asserting its error code and reason.
import { describe, expect, it } from 'vitest';
import type { TaesdErrorReason } from '../src/errors.js';
import { floatsToHalves } from '../src/weights/half.js';
import { parseNpy } from '../src/weights/npy.js';
import { floats } from './support/pickles.js';
import { thrown } from './support/weightFiles.js';

const enc = new TextEncoder();

describe('npy', () => {
  function npy(descr: string, shape: number[], data: Uint8Array, { version = 1, fortran = false } = {}): Uint8Array {
    const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
    const pre = version === 1 ? 10 : 12;
    const header = dict + ' '.repeat(63 - ((pre + dict.length) % 64)) + '\n'; // numpy pads to 64 bytes
    const out = new Uint8Array(pre + header.length + data.length);
    out.set([0x93, ...enc.encode('NUMPY'), version, 0]);
    const view = new DataView(out.buffer);
    if (version === 1) view.setUint16(8, header.length, true);
    else view.setUint32(8, header.length, true);
    out.set(enc.encode(header), pre);
    out.set(data, pre + header.length);
    return out;
  }
  const values = [0.5, -1.25, 3, 1e-3, -0, 65504];

  it('reads <f4, <f2 (as bits) and <f8 (as float32), versions 1-3', () => {
    const f4 = parseNpy(npy('<f4', [2, 3], floats(values)), 'latent.npy');
    expect(f4.dtype).toBe('F32');
    expect(f4.shape).toEqual([2, 3]);
    expect(f4.data).toEqual(Float32Array.from(values));
    const halves = floatsToHalves(Float32Array.from(values));
    const f2 = parseNpy(npy('<f2', [1, 6], new Uint8Array(halves.buffer), { version: 2 }));
    expect(f2.dtype).toBe('F16');
    expect(f2.data).toBeInstanceOf(Uint16Array);
    expect(f2.data).toEqual(halves);
    const f8 = parseNpy(npy('<f8', [6], new Uint8Array(Float64Array.from([...values.slice(0, 5), 0.1]).buffer), { version: 3 }));
    expect(f8.shape).toEqual([6]);
    expect(f8.data).toEqual(Float32Array.from([...values.slice(0, 5), 0.1]));
    expect(parseNpy(npy('<f4', [], floats([2]))).shape).toEqual([]);
  });

  // Each case: the file, the reason, and what the message must name, if anything.
  const bad: [string, () => Uint8Array, TaesdErrorReason, string?][] = [
    ['Fortran order', () => npy('<f4', [2, 3], floats(values), { fortran: true }), 'UNSUPPORTED'],
    ['big-endian', () => npy('>f4', [6], floats(values, false)), 'UNSUPPORTED', '>f4'],
    ['integers', () => npy('<i4', [6], new Uint8Array(24)), 'UNSUPPORTED', '<i4'],
    ['truncated data', () => { const f = npy('<f4', [2, 3], floats(values)); return f.subarray(0, f.length - 18); }, 'TRUNCATED', '24'],
    ['truncated header', () => npy('<f4', [2, 3], floats(values)).subarray(0, 40), 'TRUNCATED'],
    ['no magic', () => floats(values), 'WRONG_FORMAT'],
  ];
  it.each(bad)('%s -> LATENT_CORRUPT (a latent file\'s code)', (_, file, reason, named) => {
    const { message } = thrown(() => parseNpy(file(), 'latent.npy'), 'LATENT_CORRUPT', reason);
    expect(message).toContain('latent.npy');
    if (named !== undefined) expect(message).toContain(named);
  });
});
