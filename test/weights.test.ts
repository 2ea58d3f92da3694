// Weights and latent file readers: the real upstream files, layouts, dtypes, and every way a
// file can be damaged or hostile, each asserting its error code.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { isTaesdError, type TaesdErrorCode } from '../src/errors.js';
import { resolveDecoderWeights, type DecoderWeights } from '../src/model/weights.js';
import { bfloat16ToFloat, floatsToHalves, halfToFloat } from '../src/weights/half.js';
import { loadStateDict, parseWeights, readSource } from '../src/weights/load.js';
import { parseNpy } from '../src/weights/npy.js';
import { MAX_ARCHIVE_BYTES, parsePth } from '../src/weights/pth.js';
import { encodeSafetensors, MAX_HEADER_BYTES, parseSafetensors, type EncodableTensor } from '../src/weights/safetensors.js';
import { MAX_ELEMENTS, type StateDict } from '../src/weights/tensor.js';
import { safetensorsFromText } from './support/hostileFiles.js';
import { checkpoint, floats, glob, stateDictPickle, str, type PickledTensor } from './support/pickles.js';
import { HAS_SHARED, TAEF2_PTH, TAEF2_SAFETENSORS } from './support/shared.js';

const PTH_BYTES = new Uint8Array(readFileSync(TAEF2_PTH));
// Without ../shared an empty file stands in, so the suites that use it are collected (and skipped).
const ST_BYTES = HAS_SHARED ? new Uint8Array(readFileSync(TAEF2_SAFETENSORS)) : encodeSafetensors({});
const PTH = parsePth(PTH_BYTES, 'taef2_decoder.pth');
const ST = parseSafetensors(ST_BYTES, 'taef2_decoder.safetensors').tensors;
const enc = new TextEncoder();
const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'taesd-weights-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs `f` and returns the TaesdError it throws, failing the test if it throws anything else. */
function thrown(f: () => unknown, code: TaesdErrorCode): Error {
  try {
    f();
  } catch (e) {
    if (!isTaesdError(e)) throw e;
    expect(e.code, e.message).toBe(code);
    return e;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

async function rejected(p: Promise<unknown>, code: TaesdErrorCode): Promise<Error> {
  try {
    await p;
  } catch (e) {
    if (!isTaesdError(e)) throw e;
    expect(e.code, e.message).toBe(code);
    return e;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Every Float32Array in a value, depth first (toEqual on a whole decoder is too slow). */
function arrays(v: unknown, out: Float32Array[] = []): Float32Array[] {
  if (v instanceof Float32Array) out.push(v);
  else if (v && typeof v === 'object') Object.values(v).forEach((x) => arrays(x, out));
  return out;
}

/** Same layer structure, keys and shapes, and bit-identical tensors. */
function expectSameLayers(a: DecoderWeights, b: DecoderWeights): void {
  const outline = (d: DecoderWeights) => JSON.stringify(d.layers, (_, v: unknown) => (v instanceof Float32Array ? `f32[${v.length}]` : v));
  expect(outline(a)).toBe(outline(b));
  const [x, y] = [arrays(a.layers), arrays(b.layers)];
  expect(x.length).toBe(y.length);
  x.forEach((t, i) => expect(Buffer.from(t.buffer, t.byteOffset, t.byteLength).equals(Buffer.from(y[i]!.buffer, y[i]!.byteOffset, y[i]!.byteLength))).toBe(true));
}

/** A safetensors file from a raw header object and data bytes (for cases the encoder refuses). */
const rawSafetensors = (header: unknown, data: Uint8Array, headerText = JSON.stringify(header)): Uint8Array => safetensorsFromText(headerText, data);

/** Upstream state dict as F16 bits, ready for encodeSafetensors. */
function asHalves(dict: StateDict, rename: (key: string) => string = (k) => k): Record<string, EncodableTensor> {
  const out: Record<string, EncodableTensor> = {};
  for (const [k, t] of dict) out[rename(k)] = { dtype: 'F16', shape: t.shape, data: floatsToHalves(t.data) };
  return out;
}

describe.skipIf(!HAS_SHARED)('real upstream files', () => {
  it('pth and safetensors hold identical tensors (keys, order, shapes, F16, bit-identical values)', () => {
    expect(PTH.size).toBe(79);
    expect([...PTH.keys()]).toEqual([...ST.keys()]);
    for (const [key, a] of PTH) {
      const b = ST.get(key)!;
      expect(a.dtype, key).toBe('F16');
      expect(b.dtype, key).toBe('F16');
      expect(a.shape, key).toEqual(b.shape);
      expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
      expect(Buffer.from(bits(a.data).buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(bits(b.data).buffer, b.data.byteOffset, b.data.byteLength)), key).toBe(true);
    }
    expect(PTH.get('1.weight')!.shape).toEqual([64, 32, 3, 3]);
    expect(parseSafetensors(ST_BYTES).metadata).toEqual({ source: 'taef2_decoder.pth' });
  });

  it('both resolve as taef2 decoders and give the same layers', () => {
    const a = resolveDecoderWeights(PTH, { sourceName: 'taef2_decoder.pth' });
    const b = resolveDecoderWeights(ST);
    expect(a.model.id).toBe('taef2');
    expect(b.model.id).toBe('taef2');
    expect(b.modelReason).toMatch(/detected/);
    expectSameLayers(a, b);
  });

  it('reads a buffer with an unaligned byteOffset (copying tensors it cannot view)', () => {
    const shifted = new Uint8Array(ST_BYTES.length + 1);
    shifted.set(ST_BYTES, 1);
    const d = parseSafetensors(shifted.subarray(1)).tensors;
    expect(bits(d.get('19.weight')!.data)).toEqual(bits(ST.get('19.weight')!.data));
  });

  it('a diffusers AutoencoderTiny layout resolves to identical tensors; encoder keys are ignored', () => {
    const file = encodeSafetensors({
      'encoder.layers.0.weight': { dtype: 'F32', shape: [64, 3, 3, 3], data: new Float32Array(64 * 27).fill(0.5) },
      ...asHalves(ST, (k) => k.replace(/^(\d+)\./, (_, n: string) => `decoder.layers.${Number(n) - 1}.`)),
      'encoder.layers.1.bias': { dtype: 'F32', shape: [64], data: new Float32Array(64) },
    });
    const dict = parseWeights(file, 'diffusion_pytorch_model.safetensors');
    expect([...dict.keys()].some((k) => k.startsWith('decoder.layers.0.'))).toBe(true);
    const resolved = resolveDecoderWeights(dict);
    expect(resolved.model.id).toBe('taef2');
    expectSameLayers(resolved, resolveDecoderWeights(ST));
  });

  it('loads from a path, a file: URL, a data: URL, a Uint8Array and an ArrayBuffer', async () => {
    const fromPath = await loadStateDict(TAEF2_SAFETENSORS);
    expect(fromPath.name).toBe(TAEF2_SAFETENSORS);
    expect([...fromPath.dict.keys()]).toEqual([...ST.keys()]);
    const fromUrl = await loadStateDict(pathToFileURL(TAEF2_PTH));
    expect(fromUrl.name).toMatch(/^file:.*taef2_decoder\.pth$/);
    expect(bits(fromUrl.dict.get('3.pool.0.weight')!.data)).toEqual(bits(PTH.get('3.pool.0.weight')!.data));
    expect((await loadStateDict(pathToFileURL(TAEF2_PTH).href)).dict.size).toBe(79);
    expect((await loadStateDict(PTH_BYTES)).name).toBe('buffer');
    expect((await loadStateDict(ST_BYTES.slice().buffer)).dict.size).toBe(79);
    const small = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const dataUrl = `data:application/octet-stream;base64,${Buffer.from(small).toString('base64')}`;
    const fromData = await loadStateDict(dataUrl);
    expect(fromData.name).toBe('data: URL');
    expect([...fromData.dict.get('x')!.data]).toEqual([1, 2]);
  });

  it('a missing file or a failing URL is IO, naming the path or URL and status', async () => {
    const missing = join(tempDir(), 'nope.safetensors');
    expect((await rejected(readSource(missing), 'IO')).message).toContain(missing);
    expect((await rejected(loadStateDict(pathToFileURL(missing)), 'IO')).message).toContain('nope.safetensors');
    const server = createServer((_, res) => res.writeHead(404, 'Not Found').end('no'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/taef2_decoder.pth`;
      const e = await rejected(loadStateDict(url), 'IO');
      expect(e.message).toContain(url);
      expect(e.message).toContain('404');
    } finally {
      server.close();
    }
  });
});

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
    expect(thrown(() => encodeSafetensors(JSON.parse('{"__proto__": 1}') as Record<string, EncodableTensor>), 'BAD_OPTION').message).toMatch(/cannot be named __proto__/);
    expect(thrown(() => encodeSafetensors(Object.fromEntries([['__proto__', t]])), 'BAD_OPTION').message).toMatch(/cannot be named __proto__/);
    expect(thrown(() => encodeSafetensors({ __metadata__: t }), 'BAD_OPTION').message).toMatch(/cannot be named __metadata__ \(the format's reserved key\)/);
    for (const bad of [1, null, { nested: 'x' }, ['a']]) {
      expect(thrown(() => encodeSafetensors({ a: t }, { n: bad } as unknown as Record<string, string>), 'BAD_OPTION').message).toMatch(/metadata "n" is a/);
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

  it('a finite F64 value beyond float32 is named as such, not as a non-finite one', () => {
    const file = rawSafetensors({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(Float64Array.of(1, 1e300).buffer));
    expect(thrown(() => parseSafetensors(file, 'big.safetensors'), 'WEIGHTS_CORRUPT').message).toBe("big.safetensors: tensor w holds 1e+300 at element 1, beyond float32's range (+-3.4e38): it would become Infinity");
  });

  it('encodeSafetensors refuses data that disagrees with dtype or shape (BAD_OPTION)', () => {
    thrown(() => encodeSafetensors({ x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } }), 'BAD_OPTION');
    thrown(() => encodeSafetensors({ x: { dtype: 'F16', shape: [2], data: new Float32Array(2) as unknown as Uint16Array } }), 'BAD_OPTION');
  });
});

describe.skipIf(!HAS_SHARED)('corrupt safetensors -> WEIGHTS_CORRUPT', () => {
  const headerLength = Number(new DataView(ST_BYTES.buffer, ST_BYTES.byteOffset).getBigUint64(0, true));

  it.each([0, 3, 8, 100, 8 + headerLength - 1, 8 + headerLength, 8 + headerLength + 1000, 1_000_000, ST_BYTES.length - 1])(
    'truncated at byte %i', (cut) => {
      const e = thrown(() => parseWeights(ST_BYTES.subarray(0, cut), 'taef2_decoder.safetensors'), 'WEIGHTS_CORRUPT');
      expect(e.message).toMatch(/^taef2_decoder\.safetensors: /);
      expect(e.message).toMatch(cut < 8 ? /too short/ : /truncated/);
    },
  );

  it('names the tensor that runs past the end', () => {
    const e = thrown(() => parseSafetensors(ST_BYTES.subarray(0, ST_BYTES.length - 1), 'taef2_decoder.safetensors'), 'WEIGHTS_CORRUPT');
    expect(e.message).toBe(`taef2_decoder.safetensors: truncated: tensor 19.bias ends at byte ${ST_BYTES.length - 8 - headerLength} but file data is ${ST_BYTES.length - 9 - headerLength} bytes`);
  });

  const f32 = (offsets: unknown, shape: unknown = [2], dtype: unknown = 'F32') => ({ dtype, shape, data_offsets: offsets });
  const cases: [string, Uint8Array, RegExp][] = [
    ['header length beyond the file', (() => { const b = ST_BYTES.slice(0, 50_000); new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true); return b; })(), /header of \d+ bytes runs past the end/],
    ['header length over the cap', (() => { const b = ST_BYTES.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })(), new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte cap`)],
    ['bad JSON', rawSafetensors(null, new Uint8Array(8), '{"a": {"dtype": "F32",'), /not valid UTF-8 JSON \(/],
    ['invalid UTF-8 header', (() => { const b = rawSafetensors(null, new Uint8Array(0), '{"?": {}}'); b[10] = 0xff; return b; })(), /not valid UTF-8 JSON/],
    ['JSON array header', rawSafetensors([1, 2], new Uint8Array(0)), /not a JSON object/],
    ['entry that is not an object', rawSafetensors({ a: 3 }, new Uint8Array(0)), /tensor a: entry is not an object/],
    ['unknown dtype', rawSafetensors({ a: f32([0, 2], [2], 'F8_E4M3') }, new Uint8Array(2)), /unsupported dtype "F8_E4M3"/],
    ['negative shape', rawSafetensors({ a: f32([0, 8], [-2]) }, new Uint8Array(8)), /shape \[-2\]/],
    ['fractional shape', rawSafetensors({ a: f32([0, 8], [2.5]) }, new Uint8Array(8)), /shape \[2.5\]/],
    ['offsets not a pair', rawSafetensors({ a: f32([0]) }, new Uint8Array(8)), /data_offsets \[0\]/],
    ['offsets reversed', rawSafetensors({ a: f32([8, 0]) }, new Uint8Array(8)), /data_offsets \[8,0\]/],
    ['wrong byte length', rawSafetensors({ a: f32([0, 12]) }, new Uint8Array(12)), /F32 \[2\] needs 8 bytes but data_offsets \[0,12\] span 12/],
    ['out-of-bounds offsets', rawSafetensors({ a: f32([0, 8]), b: f32([8, 16]) }, new Uint8Array(12)), /truncated: tensor b ends at byte 16 but file data is 12 bytes/],
    ['overlapping offsets', rawSafetensors({ a: f32([0, 8]), b: f32([4, 12]) }, new Uint8Array(12)), /tensor b: data_offsets \[4,12\] overlap/],
    ['a gap between tensors', rawSafetensors({ a: f32([0, 8]), b: f32([12, 20]) }, new Uint8Array(20)), /tensor b: data_offsets \[12,20\] leave a gap after byte 8/],
    ['bytes after the last tensor', rawSafetensors({ a: f32([0, 8]) }, new Uint8Array(12)), /4 bytes after the last tensor/],
    ['non-string metadata', rawSafetensors({ __metadata__: { n: 1 } }, new Uint8Array(0)), /__metadata__ value "n" is not a string/],
  ];
  it.each(cases)('%s', (_, file, message) => {
    expect(thrown(() => parseSafetensors(file, 'bad.safetensors'), 'WEIGHTS_CORRUPT').message).toMatch(message);
  });

  it('too short or legacy torch files', () => {
    expect(thrown(() => parseWeights(new Uint8Array(0), 'empty.pth'), 'WEIGHTS_CORRUPT').message).toMatch(/^empty\.pth: 0 bytes is too short/);
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
    expect(thrown(() => parseWeights(legacy, 'old.pth'), 'WEIGHTS_CORRUPT').message).toMatch(/legacy/);
  });
});

describe('pth reader', () => {
  it('honours storage offset, strides and shared storages; reads big-endian storages', () => {
    const pkl = stateDictPickle([
      { key: 'transposed', storage: '0', numel: 6, offset: 0, shape: [2, 3], stride: [1, 2] },
      { key: 'strided', storage: '0', numel: 6, offset: 1, shape: [2], stride: [2] },
      { key: 'plain', storage: '0', numel: 6, offset: 0, shape: [3, 2], stride: [2, 1] },
      { key: 'broadcast', storage: '1', numel: 1, offset: 0, shape: [2, 2], stride: [0, 0] },
      { key: 'empty', storage: '1', numel: 1, offset: 0, shape: [0, 5], stride: [5, 1] },
    ]);
    for (const order of ['little', 'big'] as const) {
      const d = parsePth(checkpoint(pkl, { 0: floats([0, 1, 2, 3, 4, 5], order === 'little'), 1: floats([7], order === 'little') }, order), 'views.pth');
      expect([...d.keys()]).toEqual(['transposed', 'strided', 'plain', 'broadcast', 'empty']);
      expect([...d.get('transposed')!.data]).toEqual([0, 2, 4, 1, 3, 5]);
      expect(d.get('transposed')!.shape).toEqual([2, 3]);
      expect([...d.get('strided')!.data]).toEqual([1, 3]);
      expect([...d.get('plain')!.data]).toEqual([0, 1, 2, 3, 4, 5]);
      expect([...d.get('broadcast')!.data]).toEqual([7, 7, 7, 7]);
      expect(d.get('empty')!.data.length).toBe(0);
      expect(d.get('plain')!.dtype).toBe('F32');
    }
  });

  it('reads BFloat16 and Double storages', () => {
    const pkl = stateDictPickle([
      { key: 'b', storage: '0', type: 'BFloat16Storage', numel: 2, offset: 0, shape: [2], stride: [1] },
      { key: 'd', storage: '1', type: 'DoubleStorage', numel: 1, offset: 0, shape: [1], stride: [1] },
    ]);
    const d = parsePth(checkpoint(pkl, { 0: Uint8Array.from([0x80, 0x3f, 0x20, 0xc0]), 1: new Uint8Array(Float64Array.from([0.5]).buffer) }));
    expect([...d.get('b')!.data]).toEqual([1, -2.5]);
    expect(d.get('b')!.dtype).toBe('BF16');
    expect([...d.get('d')!.data]).toEqual([0.5]);
  });

  const hostile: [string, number[], RegExp][] = [
    ['os.system via GLOBAL', [0x80, 2, ...glob('os', 'system'), ...str('echo pwned'), 0x85, 0x52, 0x2e], /pickle asks for os\.system; only tensor state dicts are read/],
    ['builtins.eval via STACK_GLOBAL', [0x80, 4, 0x8c, 8, ...enc.encode('builtins'), 0x8c, 4, ...enc.encode('eval'), 0x93, ...str('1'), 0x85, 0x52, 0x2e], /builtins\.eval/],
    ['__builtin__.getattr', [0x80, 2, ...glob('__builtin__', 'getattr'), 0x2e], /__builtin__\.getattr/],
    ['torch.load inside', [0x80, 2, ...glob('torch', 'load'), 0x2e], /torch\.load/],
    ['NEWOBJ on an allowed class', [0x80, 2, ...glob('collections', 'OrderedDict'), 0x29, 0x81, 0x2e], /object construction \(NEWOBJ/],
    ['calling a storage class', [0x80, 2, ...glob('torch', 'FloatStorage'), 0x29, 0x52, 0x2e], /a call to torch\.FloatStorage/],
  ];
  it.each(hostile)('refuses %s (WEIGHTS_UNSAFE)', (_, pickle, message) => {
    const file = checkpoint(Uint8Array.from(pickle), {});
    const e = thrown(() => parseWeights(file, 'evil.pth'), 'WEIGHTS_UNSAFE');
    expect(e.message).toMatch(/^evil\.pth: /);
    expect(e.message).toMatch(message);
  });

  it.each([100, 11_000, 1_000_000, PTH_BYTES.length - 30, PTH_BYTES.length - 1])('truncated at byte %i -> WEIGHTS_CORRUPT', (cut) => {
    expect(thrown(() => parseWeights(PTH_BYTES.subarray(0, cut), 'taef2_decoder.pth'), 'WEIGHTS_CORRUPT').message).toMatch(/^taef2_decoder\.pth: /);
  });

  const entries = unzipSync(PTH_BYTES);
  const rezip = (edit: (files: Record<string, Uint8Array>) => void): Uint8Array => {
    const files = { ...entries };
    edit(files);
    return zipSync(files, { level: 0 });
  };
  it('bytes appended after the archive are tolerated, as Python\'s zipfile does', () => {
    const padded = new Uint8Array(PTH_BYTES.length + 100);
    padded.set(PTH_BYTES);
    expect(bits(parsePth(padded).get('19.weight')!.data)).toEqual(bits(PTH.get('19.weight')!.data));
  });

  it('a repacked archive still reads identically (the rezip helper is sound)', () => {
    expect(bits(parsePth(rezip(() => {})).get('19.weight')!.data)).toEqual(bits(PTH.get('19.weight')!.data));
  });

  const damaged: [string, () => Uint8Array, RegExp][] = [
    ['a missing storage file', () => rezip((f) => delete f['taef2_decoder/data/3']), /missing storage file taef2_decoder\/data\/3 for tensor 3\.conv\.0\.bias/],
    ['a short storage file', () => rezip((f) => { f['taef2_decoder/data/0'] = f['taef2_decoder/data/0']!.subarray(0, 100); }), /truncated: storage taef2_decoder\/data\/0 for tensor 1\.weight has 100 bytes, needs 36864/],
    ['a truncated data.pkl', () => rezip((f) => { f['taef2_decoder/data.pkl'] = f['taef2_decoder/data.pkl']!.subarray(0, 5000); }), /data\.pkl is truncated/],
    ['no data.pkl', () => rezip((f) => delete f['taef2_decoder/data.pkl']), /a zip archive without data\.pkl.*, not a PyTorch checkpoint/],
    ['a bad byteorder', () => rezip((f) => { f['taef2_decoder/byteorder'] = enc.encode('middle'); }), /byteorder is "middle"/],
    ['an unknown opcode', () => checkpoint(Uint8Array.from([0x80, 2, 0x7e, 0x2e]), {}), /unsupported opcode 0x7e/],
    ['a pickle of a list', () => checkpoint(Uint8Array.from([0x80, 2, 0x5d, 0x2e]), {}), /not a state dict/],
    ['a view past its storage', () => checkpoint(stateDictPickle([{ key: 'x', storage: '0', numel: 4, offset: 2, shape: [3], stride: [1] }]), { 0: floats([1, 2, 3, 4]) }), /past the end of storage 0/],
    ['a huge broadcast view', () => checkpoint(stateDictPickle([{ key: 'x', storage: '0', numel: 1, offset: 0, shape: [100_000, 100_000], stride: [0, 0] }]), { 0: floats([1]) }), new RegExp(`over ${MAX_ELEMENTS} elements`)],
    ['an undefined memo', () => checkpoint(Uint8Array.from([0x80, 2, 0x68, 9, 0x2e]), {}), /memo 9/],
    ['a corrupted zip directory', () => { const b = PTH_BYTES.slice(); b.fill(0, b.length - 22); return b; }, /has no zip end record/],
  ];
  it.each(damaged)('%s -> WEIGHTS_CORRUPT', (_, file, message) => {
    expect(thrown(() => parseWeights(file(), 'taef2_decoder.pth'), 'WEIGHTS_CORRUPT').message).toMatch(message);
  });

  /**
   * A zip whose central directory lists `copies` entries, all pointing at one local header and
   * one deflated run of `size` zero bytes (the overlapping-entries zip bomb).
   */
  function zipBomb(copies: number, size: number): Uint8Array {
    const one = zipSync({ 'archive/data/0': [new Uint8Array(size), { level: 9 }] });
    const view = new DataView(one.buffer);
    const eocd = one.length - 22;
    const dirAt = view.getUint32(eocd + 16, true);
    const entry = one.subarray(dirAt, eocd);
    const end = one.slice(eocd);
    const e = new DataView(end.buffer);
    e.setUint16(8, copies, true);
    e.setUint16(10, copies, true);
    e.setUint32(12, entry.length * copies, true);
    const out = new Uint8Array(dirAt + entry.length * copies + end.length);
    out.set(one.subarray(0, dirAt));
    for (let i = 0; i < copies; i++) out.set(entry, dirAt + i * entry.length);
    out.set(end, dirAt + entry.length * copies);
    return out;
  }

  /** `file` with the uncompressed size of zip entry `name` set to `size`, in its local header and central entry alike. */
  function claimSize(file: Uint8Array, name: string, size: number): Uint8Array {
    const out = file.slice();
    const view = new DataView(out.buffer);
    const needle = enc.encode(name);
    for (let p = 0; p + 46 < out.length; p++) {
      const sig = view.getUint32(p, true);
      const nameAt = sig === 0x04034b50 ? p + 30 : sig === 0x02014b50 ? p + 46 : -1;
      if (nameAt < 0 || !needle.every((b, i) => out[nameAt + i] === b)) continue;
      view.setUint32(sig === 0x04034b50 ? p + 22 : p + 24, size, true);
    }
    return out;
  }

  it('the zip-bomb helper is sound: fflate inflates each copy to the zeros it claims', () => {
    expect(unzipSync(zipBomb(1, 1000))['archive/data/0']).toEqual(new Uint8Array(1000));
  });

  const huge = (key: string): PickledTensor => ({ key, storage: '0', numel: 1, offset: 0, shape: [2 ** 12, 2 ** 12], stride: [0, 0] });
  const hostileSizes: [string, () => Uint8Array, RegExp][] = [
    ['stride-0 views that together pass the element cap, each under it', () => checkpoint(stateDictPickle(['a', 'b', 'c'].map(huge)), { 0: floats([1]) }), new RegExp(`tensor b \\[4096,4096\\] brings the file to over ${MAX_ELEMENTS} elements`)],
    ['a view of rank 9', () => checkpoint(stateDictPickle([{ key: 'r', storage: '0', numel: 1, offset: 0, shape: Array<number>(9).fill(1), stride: Array<number>(9).fill(0) }]), { 0: floats([1]) }), /rebuilds a tensor from tuple of 6/],
    ['300 central entries sharing one 4 MiB deflated run (the overlapping zip bomb)', () => zipBomb(300, 4 << 20), /zip entries archive\/data\/0 and archive\/data\/0 overlap/],
    ['17 real entries of 4 MiB each, over the archive cap together', () => zipSync(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`archive/data/${i}`, [new Uint8Array(4 << 20), { level: 1 }]]))), new RegExp(`zip entries claim over ${MAX_ARCHIVE_BYTES} bytes in all \\(at archive/data/16\\)`)],
    ['a zip entry claiming 512 MiB', () => claimSize(zipSync({ 'archive/data/0': [new Uint8Array(64), { level: 6 }] }), 'archive/data/0', 2 ** 29), new RegExp(`zip entries claim over ${MAX_ARCHIVE_BYTES} bytes in all \\(at archive/data/0\\)`)],
  ];
  it.each(hostileSizes)('%s -> WEIGHTS_CORRUPT before allocating it', (_, file, message) => {
    expect(thrown(() => parseWeights(file(), 'bomb.pth'), 'WEIGHTS_CORRUPT').message).toMatch(message);
  });
});

describe('resolveDecoderWeights on damaged dicts', () => {
  it('a deleted tensor -> WEIGHTS_MISSING_TENSOR', () => {
    const d = new Map(PTH);
    d.delete('4.conv.2.weight');
    expect(thrown(() => resolveDecoderWeights(d), 'WEIGHTS_MISSING_TENSOR').message).toContain('4.conv.2.weight');
  });

  it('a wrong shape -> WEIGHTS_SHAPE', () => {
    const d = new Map(PTH);
    d.set('3.pool.1.weight', { dtype: 'F16', shape: [255], data: new Float32Array(255) });
    expect(thrown(() => resolveDecoderWeights(d), 'WEIGHTS_SHAPE').message).toMatch(/3\.pool\.1\.weight has shape \[255\], expected \[256\]/);
  });

  it('a tensor under both its upstream and its diffusers name -> WEIGHTS_CORRUPT naming both', () => {
    const d = new Map(PTH);
    d.set('decoder.layers.3.conv.2.weight', d.get('4.conv.2.weight')!);
    expect(thrown(() => resolveDecoderWeights(d), 'WEIGHTS_CORRUPT').message).toBe('tensors 4.conv.2.weight and decoder.layers.3.conv.2.weight are both 4.conv.2.weight; keep one layout (upstream or diffusers)');
    const prefixed = new Map([...PTH].map(([k, t]) => [`decoder.${k}`, t]));
    prefixed.set('vae.decoder.layers.0.weight', PTH.get('1.weight')!);
    expect(thrown(() => resolveDecoderWeights(prefixed), 'WEIGHTS_CORRUPT').message).toMatch(/tensors decoder\.1\.weight and vae\.decoder\.layers\.0\.weight are both 1\.weight/);
  });

  it('taef2 weights for model taesd -> MODEL_MISMATCH naming expected and found', () => {
    const e = thrown(() => resolveDecoderWeights(PTH, { model: 'taesd', sourceName: 'taef2_decoder.pth' }), 'MODEL_MISMATCH');
    expect(e.message).toContain('taesd');
    expect(e.message).toContain('expected 1.weight [64,4,3,3]');
    expect(e.message).toContain('found 1.weight [64,32,3,3] with pool branch');
  });
});

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

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['Fortran order', () => npy('<f4', [2, 3], floats(values), { fortran: true }), /Fortran/],
    ['big-endian', () => npy('>f4', [6], floats(values, false)), /dtype >f4 is not read/],
    ['integers', () => npy('<i4', [6], new Uint8Array(24)), /dtype <i4/],
    ['truncated data', () => { const f = npy('<f4', [2, 3], floats(values)); return f.subarray(0, f.length - 18); }, /needs 24 data bytes but the file holds 6 \(truncated\)/],
    ['truncated header', () => npy('<f4', [2, 3], floats(values)).subarray(0, 40), /truncated: header/],
    ['no magic', () => floats(values), /not a \.npy file/],
  ];
  it.each(bad)('%s -> LATENT_CORRUPT (a latent file\'s code)', (_, file, message) => {
    const e = thrown(() => parseNpy(file(), 'latent.npy'), 'LATENT_CORRUPT');
    expect(e.message).toMatch(/^latent\.npy: /);
    expect(e.message).toMatch(message);
  });
});
