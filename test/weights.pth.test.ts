// The PyTorch checkpoint reader: views, storages and byte orders, hostile pickles, damaged and
// oversized archives, each asserting its error code and reason.
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { TaesdErrorReason } from '../src/errors.js';
import { parseWeights } from '../src/weights/load.js';
import { MAX_ARCHIVE_BYTES, parsePth } from '../src/weights/pth.js';
import { MAX_ELEMENTS } from '../src/weights/tensor.js';
import { checkpoint, floats, glob, stateDictPickle, str, type PickledTensor } from './support/pickles.js';
import { bits, PTH, PTH_BYTES, thrown } from './support/weightFiles.js';

const enc = new TextEncoder();

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

  // Each case: the pickle, the reason, and what the message must name.
  const hostile: [string, number[], TaesdErrorReason, string][] = [
    ['os.system via GLOBAL', [0x80, 2, ...glob('os', 'system'), ...str('echo pwned'), 0x85, 0x52, 0x2e], 'UNSAFE_GLOBAL', 'os.system'],
    ['builtins.eval via STACK_GLOBAL', [0x80, 4, 0x8c, 8, ...enc.encode('builtins'), 0x8c, 4, ...enc.encode('eval'), 0x93, ...str('1'), 0x85, 0x52, 0x2e], 'UNSAFE_GLOBAL', 'builtins.eval'],
    ['__builtin__.getattr', [0x80, 2, ...glob('__builtin__', 'getattr'), 0x2e], 'UNSAFE_GLOBAL', '__builtin__.getattr'],
    ['torch.load inside', [0x80, 2, ...glob('torch', 'load'), 0x2e], 'UNSAFE_GLOBAL', 'torch.load'],
    ['NEWOBJ on an allowed class', [0x80, 2, ...glob('collections', 'OrderedDict'), 0x29, 0x81, 0x2e], 'UNSAFE_CALL', 'NEWOBJ'],
    ['calling a storage class', [0x80, 2, ...glob('torch', 'FloatStorage'), 0x29, 0x52, 0x2e], 'UNSAFE_CALL', 'torch.FloatStorage'],
  ];
  it.each(hostile)('refuses %s (WEIGHTS_UNSAFE)', (_, pickle, reason, named) => {
    const file = checkpoint(Uint8Array.from(pickle), {});
    const e = thrown(() => parseWeights(file, 'evil.pth'), 'WEIGHTS_UNSAFE', reason);
    expect(e.message).toContain('evil.pth');
    expect(e.message).toContain(named);
  });

  it.each([100, 11_000, 1_000_000, PTH_BYTES.length - 30, PTH_BYTES.length - 1])('truncated at byte %i -> WEIGHTS_CORRUPT', (cut) => {
    expect(thrown(() => parseWeights(PTH_BYTES.subarray(0, cut), 'taef2_decoder.pth'), 'WEIGHTS_CORRUPT', 'TRUNCATED').message).toContain('taef2_decoder.pth');
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

  // Each case: the file, the reason, and what the message must name (an entry, a tensor, a value), if anything.
  const damaged: [string, () => Uint8Array, TaesdErrorReason, string[]][] = [
    ['a missing storage file', () => rezip((f) => delete f['taef2_decoder/data/3']), 'MALFORMED', ['taef2_decoder/data/3', 'tensor 3.conv.0.bias']],
    ['a short storage file', () => rezip((f) => { f['taef2_decoder/data/0'] = f['taef2_decoder/data/0']!.subarray(0, 100); }), 'TRUNCATED', ['taef2_decoder/data/0', 'tensor 1.weight', '100', '36864']],
    ['a truncated data.pkl', () => rezip((f) => { f['taef2_decoder/data.pkl'] = f['taef2_decoder/data.pkl']!.subarray(0, 5000); }), 'TRUNCATED', ['data.pkl']],
    ['no data.pkl', () => rezip((f) => delete f['taef2_decoder/data.pkl']), 'WRONG_FORMAT', ['data.pkl']],
    ['a bad byteorder', () => rezip((f) => { f['taef2_decoder/byteorder'] = enc.encode('middle'); }), 'MALFORMED', ['"middle"']],
    ['an unknown opcode', () => checkpoint(Uint8Array.from([0x80, 2, 0x7e, 0x2e]), {}), 'UNSUPPORTED', ['0x7e']],
    ['a pickle of a list', () => checkpoint(Uint8Array.from([0x80, 2, 0x5d, 0x2e]), {}), 'WRONG_FORMAT', []],
    ['a view past its storage', () => checkpoint(stateDictPickle([{ key: 'x', storage: '0', numel: 4, offset: 2, shape: [3], stride: [1] }]), { 0: floats([1, 2, 3, 4]) }), 'BAD_LAYOUT', ['storage 0']],
    ['a huge broadcast view', () => checkpoint(stateDictPickle([{ key: 'x', storage: '0', numel: 1, offset: 0, shape: [100_000, 100_000], stride: [0, 0] }]), { 0: floats([1]) }), 'TOO_LARGE', [String(MAX_ELEMENTS)]],
    ['an undefined memo', () => checkpoint(Uint8Array.from([0x80, 2, 0x68, 9, 0x2e]), {}), 'MALFORMED', ['memo 9']],
    ['a corrupted zip directory', () => { const b = PTH_BYTES.slice(); b.fill(0, b.length - 22); return b; }, 'TRUNCATED', []],
  ];
  it.each(damaged)('%s -> WEIGHTS_CORRUPT', (_, file, reason, named) => {
    const { message } = thrown(() => parseWeights(file(), 'taef2_decoder.pth'), 'WEIGHTS_CORRUPT', reason);
    for (const n of ['taef2_decoder.pth', ...named]) expect(message).toContain(n);
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
  // Each case: the file, the reason, and what the message must name.
  const hostileSizes: [string, () => Uint8Array, TaesdErrorReason, string[]][] = [
    ['stride-0 views that together pass the element cap, each under it', () => checkpoint(stateDictPickle(['a', 'b', 'c'].map(huge)), { 0: floats([1]) }), 'TOO_LARGE', ['tensor b [4096,4096]', String(MAX_ELEMENTS)]],
    ['a view of rank 9', () => checkpoint(stateDictPickle([{ key: 'r', storage: '0', numel: 1, offset: 0, shape: Array<number>(9).fill(1), stride: Array<number>(9).fill(0) }]), { 0: floats([1]) }), 'MALFORMED', []],
    ['300 central entries sharing one 4 MiB deflated run (the overlapping zip bomb)', () => zipBomb(300, 4 << 20), 'BAD_LAYOUT', ['archive/data/0']],
    ['17 real entries of 4 MiB each, over the archive cap together', () => zipSync(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`archive/data/${i}`, [new Uint8Array(4 << 20), { level: 1 }]]))), 'TOO_LARGE', [String(MAX_ARCHIVE_BYTES), 'archive/data/16']],
    ['a zip entry claiming 512 MiB', () => claimSize(zipSync({ 'archive/data/0': [new Uint8Array(64), { level: 6 }] }), 'archive/data/0', 2 ** 29), 'TOO_LARGE', [String(MAX_ARCHIVE_BYTES), 'archive/data/0']],
  ];
  it.each(hostileSizes)('%s -> WEIGHTS_CORRUPT before allocating it', (_, file, reason, named) => {
    const { message } = thrown(() => parseWeights(file(), 'bomb.pth'), 'WEIGHTS_CORRUPT', reason);
    for (const n of ['bomb.pth', ...named]) expect(message).toContain(n);
  });
});
