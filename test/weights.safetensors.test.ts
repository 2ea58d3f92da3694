// The safetensors reader and writer: dtypes, round trips, and every way a file can be damaged,
// each asserting its error code and reason.
import { describe, expect, it } from 'vitest';
import type { TaesdErrorReason } from '../src/errors.js';
import { bfloat16ToFloat, floatsToHalves, halfToFloat } from '../src/weights/half.js';
import { parseWeights } from '../src/weights/load.js';
import { encodeSafetensors, MAX_HEADER_BYTES, parseSafetensors, type EncodableTensor } from '../src/weights/safetensors.js';
import { HAS_SHARED } from './support/shared.js';
import { bits, rawSafetensors, ST_BYTES, thrown } from './support/weightFiles.js';

describe('safetensors dtypes', () => {
  const specials = [0, -0, 1, -2.5, 65504, 6.1e-5, 5.96e-8, Infinity, -Infinity, NaN, 3.14159];

  it('F32 round-trips bit-exactly, F16 and BF16 bits decode exactly, at unaligned offsets too', () => {
    const f32 = Float32Array.from([...specials, 1e-40, 3.4e38, 0.1]);
    const f16 = floatsToHalves(Float32Array.from(specials));
    const bf16 = Uint16Array.from([0x0000, 0x8000, 0x3f80, 0xc020, 0x7f80, 0xff80, 0x7fc0, 0x0001, 0x4049]);
    const odd = new Uint16Array([0x3c00, 0x4000, 0x4200]); // 6 bytes: pushes the next tensor off 4-byte alignment
    const file = encodeSafetensors(
      { odd: { dtype: 'F16', shape: [3], data: odd }, f32: { dtype: 'F32', shape: [f32.length], data: f32 }, f16: { dtype: 'F16', shape: [f16.length], data: f16 }, bf16: { dtype: 'BF16', shape: [3, 3], data: bf16 } },
      { format: 'pt', note: 'round trip' },
    );
    const { tensors, metadata } = parseSafetensors(file, 'roundtrip.safetensors');
    expect(metadata).toEqual({ format: 'pt', note: 'round trip' });
    expect([...tensors.keys()]).toEqual(['odd', 'f32', 'f16', 'bf16']);
    expect([...tensors.get('odd')!.data]).toEqual([1, 2, 3]);
    expect(bits(tensors.get('f32')!.data)).toEqual(bits(f32));
    expect(tensors.get('f16')!.dtype).toBe('F16');
    expect([...tensors.get('f16')!.data]).toEqual([...f16].map(halfToFloat));
    expect(Object.is(tensors.get('f16')!.data[1], -0)).toBe(true);
    expect(tensors.get('bf16')!.shape).toEqual([3, 3]);
    expect([...tensors.get('bf16')!.data]).toEqual([...bf16].map(bfloat16ToFloat));
    expect([...tensors.get('bf16')!.data].slice(0, 6)).toEqual([0, -0, 1, -2.5, Infinity, -Infinity]);
    expect(Number(new DataView(file.buffer).getBigUint64(0, true)) % 8).toBe(0);
  });

  it('F64, integer and bool tensors convert to float32; empty tensors are allowed', () => {
    const data = new Uint8Array(16 + 8 + 4 + 2 + 0);
    const view = new DataView(data.buffer);
    view.setFloat64(0, 0.1, true);
    view.setFloat64(8, -3, true);
    view.setBigInt64(16, -7n, true);
    view.setInt16(24, -300, true);
    data[26] = 1;
    data[27] = 0;
    data[28] = 200;
    data[29] = 0xff;
    const file = rawSafetensors({
      f64: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      i64: { dtype: 'I64', shape: [1, 1], data_offsets: [16, 24] },
      i16: { dtype: 'I16', shape: [], data_offsets: [24, 26] },
      b: { dtype: 'BOOL', shape: [2], data_offsets: [26, 28] },
      u8: { dtype: 'U8', shape: [1], data_offsets: [28, 29] },
      i8: { dtype: 'I8', shape: [1], data_offsets: [29, 30] },
      empty: { dtype: 'F32', shape: [0, 4], data_offsets: [30, 30] },
    }, data);
    const t = parseSafetensors(file).tensors;
    expect([...t.get('f64')!.data]).toEqual([Math.fround(0.1), -3]);
    expect([...t.get('i64')!.data]).toEqual([-7]);
    expect(t.get('i16')!.shape).toEqual([]);
    expect([...t.get('i16')!.data]).toEqual([-300]);
    expect([...t.get('b')!.data]).toEqual([1, 0]);
    expect([...t.get('u8')!.data]).toEqual([200]);
    expect([...t.get('i8')!.data]).toEqual([-1]);
    expect(t.get('empty')!.data.length).toBe(0);
  });

  it('encodeSafetensors refuses what its reader would (BAD_OPTION): reserved names, non-string metadata', () => {
    const t: EncodableTensor = { dtype: 'F32', shape: [1], data: new Float32Array(1) };
    expect(thrown(() => encodeSafetensors(JSON.parse('{"__proto__": 1}') as Record<string, EncodableTensor>), 'BAD_OPTION', 'RESERVED_NAME').message).toContain('__proto__');
    expect(thrown(() => encodeSafetensors(Object.fromEntries([['__proto__', t]])), 'BAD_OPTION', 'RESERVED_NAME').message).toContain('__proto__');
    expect(thrown(() => encodeSafetensors({ __metadata__: t }), 'BAD_OPTION', 'RESERVED_NAME').message).toContain('__metadata__');
    for (const bad of [1, null, { nested: 'x' }, ['a']]) {
      expect(thrown(() => encodeSafetensors({ a: t }, { n: bad } as unknown as Record<string, string>), 'BAD_OPTION', 'MALFORMED').message).toContain('"n"');
    }
  });

  it('every file encodeSafetensors writes, parseSafetensors reads back: odd names and metadata', () => {
    const names = ['a', '', ' ', 'constructor', 'toString', 'hasOwnProperty', '__metadata', '__proto', 'é/ü', '"quoted"', '\u0000nul', '1.weight', 'x'.repeat(300)];
    const tensors = Object.fromEntries(names.map((n, i) => [n, { dtype: 'F32', shape: [1], data: Float32Array.of(i) } as EncodableTensor]));
    const metadata = Object.fromEntries([['__proto__', 'p'], ['constructor', 'c'], ['format', 'pt']]);
    const read = parseSafetensors(encodeSafetensors(tensors, metadata));
    expect([...read.tensors.keys()].sort()).toEqual([...names].sort());
    names.forEach((n, i) => expect(read.tensors.get(n)!.data[0]).toBe(i));
    expect(Object.entries(read.metadata)).toEqual(Object.entries(metadata));
  });

  it('a finite F64 value beyond float32 is named as such (OUT_OF_RANGE), not as a non-finite one', () => {
    const file = rawSafetensors({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(Float64Array.of(1, 1e300).buffer));
    const { message } = thrown(() => parseSafetensors(file, 'big.safetensors'), 'WEIGHTS_CORRUPT', 'OUT_OF_RANGE');
    for (const named of ['big.safetensors', 'tensor w', '1e+300', 'element 1']) expect(message).toContain(named);
  });

  it('encodeSafetensors refuses data that disagrees with dtype or shape (BAD_OPTION)', () => {
    thrown(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), 'BAD_OPTION', 'BAD_LAYOUT');
    thrown(() => encodeSafetensors({ x: { dtype: 'F16', shape: [2], data: new Float32Array(2) as unknown as Uint16Array } }), 'BAD_OPTION', 'BAD_LAYOUT');
  });
});

describe.skipIf(!HAS_SHARED)('corrupt safetensors -> WEIGHTS_CORRUPT', () => {
  const headerLength = Number(new DataView(ST_BYTES.buffer, ST_BYTES.byteOffset).getBigUint64(0, true));

  it.each([0, 3, 8, 100, 8 + headerLength - 1, 8 + headerLength, 8 + headerLength + 1000, 1_000_000, ST_BYTES.length - 1])(
    'truncated at byte %i', (cut) => {
      const e = thrown(() => parseWeights(ST_BYTES.subarray(0, cut), 'taef2_decoder.safetensors'), 'WEIGHTS_CORRUPT', 'TRUNCATED');
      expect(e.message).toContain('taef2_decoder.safetensors');
    },
  );

  it('names the tensor that runs past the end', () => {
    const e = thrown(() => parseSafetensors(ST_BYTES.subarray(0, ST_BYTES.length - 1), 'taef2_decoder.safetensors'), 'WEIGHTS_CORRUPT', 'TRUNCATED');
    for (const named of ['taef2_decoder.safetensors', 'tensor 19.bias', `byte ${ST_BYTES.length - 8 - headerLength}`]) expect(e.message).toContain(named);
  });

  const f32 = (offsets: unknown, shape: unknown = [2], dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });
  // Each case: the file, the reason, and what the message must name (a tensor, a value), if anything.
  const cases: [string, Uint8Array, TaesdErrorReason, string?][] = [
    ['header length beyond the file', (() => { const b = ST_BYTES.slice(0, 50_000); new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true); return b; })(), 'TRUNCATED'],
    ['header length over the cap', (() => { const b = ST_BYTES.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), 'TOO_LARGE', String(MAX_HEADER_BYTES)],
    ['bad JSON', rawSafetensors(null, new Uint8Array(8), '{"a": {"dtype": "F32",'), 'MALFORMED'],
    ['invalid UTF-8 header', (() => { const b = rawSafetensors(null, new Uint8Array(0), '{"?": {}}'); b[10] = 0xff; return b; })(), 'MALFORMED'],
    ['JSON array header', rawSafetensors([1, 2], new Uint8Array(0)), 'MALFORMED'],
    ['entry that is not an object', rawSafetensors({ a: 3 }, new Uint8Array(0)), 'MALFORMED', 'tensor a'],
    ['unknown dtype', rawSafetensors({ a: f32([0, 2], [2], 'F8_E4M3') }, new Uint8Array(2)), 'UNSUPPORTED', 'F8_E4M3'],
    ['negative shape', rawSafetensors({ a: f32([0, 8], [-2]) }, new Uint8Array(8)), 'MALFORMED', '[-2]'],
    ['fractional shape', rawSafetensors({ a: f32([0, 8], [2.5]) }, new Uint8Array(8)), 'MALFORMED', '[2.5]'],
    ['offsets not a pair', rawSafetensors({ a: f32([0]) }, new Uint8Array(8)), 'MALFORMED', '[0]'],
    ['offsets reversed', rawSafetensors({ a: f32([8, 0]) }, new Uint8Array(8)), 'MALFORMED', '[8,0]'],
    ['wrong byte length', rawSafetensors({ a: f32([0, 12]) }, new Uint8Array(12)), 'BAD_LAYOUT', '[0,12]'],
    ['out-of-bounds offsets', rawSafetensors({ a: f32([0, 8]), b: f32([8, 16]) }, new Uint8Array(12)), 'TRUNCATED', 'tensor b'],
    ['overlapping offsets', rawSafetensors({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12)), 'BAD_LAYOUT', '[4,12]'],
    ['a gap between tensors', rawSafetensors({ a: f32([0, 8]), b: f32([12, 20]) }, new Uint8Array(20)), 'BAD_LAYOUT', '[12,20]'],
    ['bytes after the last tensor', rawSafetensors({ a: f32([0, 8]) }, new Uint8Array(12)), 'BAD_LAYOUT'],
    ['non-string metadata', rawSafetensors({ __metadata__: { n: 1 } }, new Uint8Array(0)), 'MALFORMED', '"n"'],
  ];
  it.each(cases)('%s', (_, file, reason, named) => {
    const { message } = thrown(() => parseSafetensors(file, 'bad.safetensors'), 'WEIGHTS_CORRUPT', reason);
    expect(message).toContain('bad.safetensors');
    if (named !== undefined) expect(message).toContain(named);
  });

  it('too short or legacy torch files', () => {
    expect(thrown(() => parseWeights(new Uint8Array(0), 'empty.pth'), 'WEIGHTS_CORRUPT', 'TRUNCATED').message).toContain('empty.pth');
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
    thrown(() => parseWeights(legacy, 'old.pth'), 'WEIGHTS_CORRUPT', 'UNSUPPORTED');
  });
});
