// The hostile weights and latent files of issue #12 (items 1-6), generated, each with what a
// bounded loader must answer: a typed error code and reason, or a correct decode.
import { readFileSync } from 'node:fs';
import { deflateSync, zipSync, zlibSync } from 'fflate';
import type { TaesdErrorCode, TaesdErrorReason } from '../../src/errors.js';
import { chunk, concat, ihdr, PNG_SIGNATURE } from '../../src/image/pngChunks.js';
import { MAX_PICKLE_MEMO, MAX_PICKLE_STACK } from '../../src/weights/pth.js';
import { MAX_HEADER_BYTES } from '../../src/weights/safetensors.js';
import { f64, f64Safetensors, htmlPage, jpegStart, npyFromHeader, plainZip, smallPng, textFile } from './foreignFiles.js';
import { checkpoint, floats, glob, int, stateDictPickle, str, tuple, u32le, type PickledTensor } from './pickles.js';
import { HAS_SHARED, sharedPath, TAEF2_PTH, TAEF2_SAFETENSORS } from './shared.js';

export interface HostileFile {
  readonly name: string;
  /** Which reader: parseWeights (by magic bytes), parseNpy, latentFromFile (by `ext`) or decodePng. */
  readonly reader: 'weights' | 'npy' | 'latent' | 'png';
  /** The file's extension (default `.bin`): latentFromFile picks the format by it. */
  readonly ext?: string;
  readonly bytes: () => Uint8Array;
  /** The TaesdError code expected, or 'ok' for a valid file that must decode. */
  readonly expect: TaesdErrorCode | 'ok';
  /** The error's reason, for a file that must fail. */
  readonly reason?: TaesdErrorReason;
  /** Something of the input the message must name (a tensor, a zip entry, a value, a limit), if anything. */
  readonly named?: string;
}

const enc = new TextEncoder();
const PROTO = [0x80, 2];
const STOP = 0x2e;

/** A checkpoint whose data.pkl is `pickle`, deflated (a flood of one opcode compresses ~1000-fold). */
function pickleCheckpoint(pickle: Uint8Array): Uint8Array {
  return zipSync({ 'archive/data.pkl': [pickle, { level: 9 }], 'archive/byteorder': enc.encode('little') });
}

/** `[PROTO 2] op x count [STOP]`. */
function flood(op: number, count: number, head: number[] = []): Uint8Array {
  const out = new Uint8Array(2 + head.length + count + 1).fill(op);
  out.set([...PROTO, ...head]);
  out[out.length - 1] = STOP;
  return out;
}

/** A 30-byte local header, name and stored data, then zip64 end records that claim `entries` entries. */
function zip64Claim(entries: number): Uint8Array {
  const name = enc.encode('archive/data.pkl');
  const data = Uint8Array.of(0x4e, STOP);
  const out = new Uint8Array(30 + name.length + data.length + 56 + 20 + 22);
  const v = new DataView(out.buffer);
  v.setUint32(0, 0x04034b50, true);
  v.setUint16(4, 20, true);
  v.setUint32(18, data.length, true);
  v.setUint32(22, data.length, true);
  v.setUint16(26, name.length, true);
  out.set(name, 30);
  out.set(data, 30 + name.length);
  const end64 = 30 + name.length + data.length;
  v.setUint32(end64, 0x06064b50, true);
  v.setBigUint64(end64 + 4, 44n, true);
  v.setBigUint64(end64 + 24, BigInt(entries), true);
  v.setBigUint64(end64 + 32, BigInt(entries), true);
  v.setBigUint64(end64 + 48, BigInt(end64), true); // directory offset (size 0)
  v.setUint32(end64 + 56, 0x07064b50, true);
  v.setBigUint64(end64 + 64, BigInt(end64), true);
  v.setUint32(end64 + 72, 1, true);
  const end = end64 + 76;
  v.setUint32(end, 0x06054b50, true);
  v.setUint16(end + 8, 0xffff, true);
  v.setUint16(end + 10, 0xffff, true);
  v.setUint32(end + 12, 0xffffffff, true);
  v.setUint32(end + 16, 0xffffffff, true);
  return out;
}

/** The real TAEF2 checkpoint with `edit` applied to a copy. */
function taef2(edit: (b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(readFileSync(TAEF2_PTH));
  edit(b);
  return b;
}

/** Where the zip record for `name` starts in `b`: a local header, or (`central`) its central directory entry. */
function header(b: Uint8Array, name: string, central = false): number {
  const [sig, lengthAt, nameAt] = central ? [0x02014b50, 28, 46] : [0x04034b50, 26, 30];
  const needle = enc.encode(name);
  const v = new DataView(b.buffer, b.byteOffset);
  for (let p = 0; p + nameAt < b.length; p++) {
    if (v.getUint32(p, true) === sig && v.getUint16(p + lengthAt, true) === needle.length && needle.every((c, i) => b[p + nameAt + i] === c)) return p;
  }
  throw new Error(`no zip record for ${name}`);
}

const localHeader = (b: Uint8Array, name: string): number => header(b, name);

/** Where the CRC of the data descriptor after `name`'s (stored) data lies. */
function descriptorCrc(b: Uint8Array, name: string): number {
  const v = new DataView(b.buffer, b.byteOffset);
  const at = localHeader(b, name);
  const size = v.getUint32(header(b, name, true) + 20, true);
  const end = at + 30 + v.getUint16(at + 26, true) + v.getUint16(at + 28, true) + size;
  return v.getUint32(end, true) === 0x08074b50 ? end + 4 : end;
}

/** A safetensors file from header text and data, its header left unpadded (the spec allows it). */
export function safetensorsFromText(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const h = enc.encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** `count` empty F32 tensors: the cheapest header entries there are. */
function emptyTensors(count: number): string {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`);
  return `{${parts.join(',')}}`;
}

/** A float32 .npy file, its header padded so the data starts at an offset of `align` mod 64 (numpy writes 0; it reads any). */
export function npyFile(shape: number[], values: Float32Array, align = 0): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  while ((10 + header.length + 1) % 64 !== align) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + values.byteLength);
  out.set([0x93, ...enc.encode('NUMPY'), 1, 0, header.length & 255, header.length >> 8]);
  out.set(enc.encode(header), 10);
  out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 10 + header.length);
  return out;
}

/** A safetensors file with one F32 tensor `latent` whose data starts at an odd file offset (header length 1 mod 4). */
export function unalignedSafetensors(values: Float32Array, shape = [values.length]): Uint8Array {
  let header = JSON.stringify({ latent: { dtype: 'F32', shape, data_offsets: [0, values.byteLength] } });
  while ((8 + header.length) % 4 !== 1) header += ' ';
  return safetensorsFromText(header, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** An RGBA PNG of `width` x `height` whose image data inflates to `inflated` zero bytes, whatever its size says. */
export function pngBomb(width: number, height: number, inflated: number): Uint8Array {
  return concat([PNG_SIGNATURE, chunk('IHDR', ihdr(width, height, true)), chunk('IDAT', zlibSync(new Uint8Array(inflated), { level: 9 })), chunk('IEND', new Uint8Array(0))]);
}

const huge = (key: string): PickledTensor => ({ key, storage: '0', numel: 1, offset: 0, shape: [16384, 8192], stride: [0, 0] });

let zeros64: Uint8Array | undefined;
/** 64 MiB of zeros, deflated (64 KB), made once. */
const deflatedZeros = (): Uint8Array => (zeros64 ??= deflateSync(new Uint8Array(64 << 20), { level: 9 }));

/** A state dict whose every tensor reuses one memoized 50,000-dimension shape: quadratic work without a rank cap. */
function reusedShape(): Uint8Array {
  const shape = tuple(Array.from({ length: 50_000 }, () => int(1)));
  const pid = tuple([str('storage'), glob('torch', 'FloatStorage'), str('0'), str('cpu'), int(1)]);
  // memo 1: the storage, 2: the shape, 3: _rebuild_tensor_v2; then 20,000 x  'b': rebuild((storage, 0, shape, shape, False, ()))
  const body = [0x7d, 0x28, ...pid, 0x51, 0x71, 1, 0x30, ...shape, 0x71, 2, 0x30, ...glob('torch._utils', '_rebuild_tensor_v2'), 0x71, 3, 0x30];
  const rebuild = [...str('b'), 0x68, 3, 0x28, 0x68, 1, ...int(0), 0x68, 2, 0x68, 2, 0x89, 0x29, 0x74, 0x52];
  for (let i = 0; i < 20_000; i++) body.push(...rebuild);
  return checkpoint(Uint8Array.from([...PROTO, ...body, 0x75, STOP]), { 0: floats([1]) }, 'little', 6);
}

export const HOSTILE_FILES: readonly HostileFile[] = [
  // 0: valid files, for scale: the real ones, and the costliest files the caps let through
  { name: '0 taef2_decoder.pth (valid)', reader: 'weights', bytes: () => new Uint8Array(readFileSync(TAEF2_PTH)), expect: 'ok' },
  // These two are read from ../shared, when it is there.
  ...(HAS_SHARED ? [
    { name: '0 taef2_decoder.safetensors (valid)', reader: 'weights', bytes: () => new Uint8Array(readFileSync(TAEF2_SAFETENSORS)), expect: 'ok' },
    { name: '0 taesana_randw_decoder.pth, 16.6 MB (valid)', reader: 'weights', bytes: () => new Uint8Array(readFileSync(sharedPath('models/test/taesana_randw_decoder.pth'))), expect: 'ok' },
  ] as const : []),
  {
    name: '0 a .pth at the element cap: a 2^24-element F16 storage and its view (valid)',
    reader: 'weights',
    bytes: () => checkpoint(stateDictPickle([{ key: 'w', storage: '0', type: 'HalfStorage', numel: 2 ** 24, offset: 0, shape: [2 ** 12, 2 ** 12], stride: [2 ** 12, 1] }]), { 0: new Uint8Array(2 ** 25) }),
    expect: 'ok',
  },
  { name: '0 a .pth at the element cap: one element viewed 2^25 - 1 times by stride 0 (valid)', reader: 'weights', bytes: () => checkpoint(stateDictPickle([{ key: 'w', storage: '0', numel: 1, offset: 0, shape: [2 ** 25 - 1], stride: [0] }]), { 0: floats([1]) }), expect: 'ok' },
  { name: '0 a safetensors at the element cap: 2^25 U8 elements (valid)', reader: 'weights', bytes: () => safetensorsFromText(JSON.stringify({ u: { dtype: 'U8', shape: [2 ** 25], data_offsets: [0, 2 ** 25] } }), new Uint8Array(2 ** 25)), expect: 'ok' },
  // 1: pickle allocation bombs
  { name: '1 stride-0 views of 2^27 elements each (10 KB)', reader: 'weights', bytes: () => checkpoint(stateDictPickle('abcdefghijklmnopqrstuvwxyz'.split('').map(huge)), { 0: floats([1]) }), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: '[16384,8192]' },
  { name: '1 160 MB data.pkl of NONE opcodes, deflated (156 KB)', reader: 'weights', bytes: () => pickleCheckpoint(flood(0x4e, 160e6)), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: '160000003' },
  { name: '1 1 MB data.pkl of NONE opcodes (stack cap)', reader: 'weights', bytes: () => pickleCheckpoint(flood(0x4e, 1_000_000)), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: String(MAX_PICKLE_STACK) },
  { name: '1 17M MEMOIZE opcodes, deflated', reader: 'weights', bytes: () => pickleCheckpoint(flood(0x94, 17e6, [0x5d])), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: '17000004' },
  { name: '1 1M MEMOIZE opcodes (memo cap)', reader: 'weights', bytes: () => pickleCheckpoint(flood(0x94, 1_000_000, [0x5d])), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: String(MAX_PICKLE_MEMO) },
  { name: '1 a 140 MB BINSTRING, deflated', reader: 'weights', bytes: () => pickleCheckpoint(flood(0x41, 140e6, [0x54, ...u32le(140e6)])), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: '140000008' },
  { name: '1 a 50,000-dimension shape reused by 20,000 tensors', reader: 'weights', bytes: reusedShape, expect: 'WEIGHTS_CORRUPT', reason: 'MALFORMED' },
  // 2: a zip64 end record claiming 0xFFFFFFFE entries
  { name: '2 zip64 end record claiming 0xFFFFFFFE entries', reader: 'weights', bytes: () => zip64Claim(0xfffffffe), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: '4294967294' },
  // 3: CRC and header agreement
  {
    name: '3 two flipped bits in a storage of taef2_decoder.pth',
    reader: 'weights',
    bytes: () => taef2((b) => { const at = localHeader(b, 'taef2_decoder/data/7') + 200; b[at] ^= 0x11; }),
    expect: 'WEIGHTS_CORRUPT',
    reason: 'MALFORMED', named: 'taef2_decoder/data/7',
  },
  {
    name: '3 a local header naming another member',
    reader: 'weights',
    bytes: () => taef2((b) => { b[localHeader(b, 'taef2_decoder/data/7') + 30 + 'taef2_decoder/data/'.length] = 0x38; }),
    expect: 'WEIGHTS_CORRUPT',
    reason: 'MALFORMED', named: '"taef2_decoder/data/8"',
  },
  {
    name: '3 a data descriptor with another CRC',
    reader: 'weights',
    bytes: () => taef2((b) => { b[descriptorCrc(b, 'taef2_decoder/data/7')] ^= 1; }),
    expect: 'WEIGHTS_CORRUPT',
    reason: 'MALFORMED', named: 'taef2_decoder/data/7',
  },
  {
    name: '3 a local header with another CRC (a zip without data descriptors)',
    reader: 'weights',
    bytes: () => { const b = checkpoint(stateDictPickle([]), {}); b[14] ^= 1; return b; },
    expect: 'WEIGHTS_CORRUPT',
    reason: 'MALFORMED', named: 'archive/data.pkl',
  },
  // 4: caps that add up
  { name: '4 four entries of 64 MiB of deflated zeros (262 KB)', reader: 'weights', bytes: () => deflatedEntries(deflatedZeros(), 64 << 20, ['archive/data/0', 'archive/data/1', 'archive/data/2', 'archive/data/3']), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: 'archive/data/1' },
  { name: '4 an entry claiming 1 KiB that inflates to 64 MiB', reader: 'weights', bytes: () => deflatedEntries(deflatedZeros(), 1024, ['archive/data.pkl']), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: 'archive/data.pkl' },
  { name: '4 a 99 MB safetensors header of 1.67M empty tensors', reader: 'weights', bytes: () => safetensorsFromText(emptyTensors(1_670_000)), expect: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', named: String(MAX_HEADER_BYTES) },
  { name: '4 a 1 MB safetensors header of 17,000 empty tensors (valid)', reader: 'weights', bytes: () => safetensorsFromText(emptyTensors(17_000)), expect: 'ok' },
  // 5: data not 4-byte aligned
  { name: '5 safetensors with an unpadded header (data at an odd offset)', reader: 'weights', bytes: () => unalignedSafetensors(Float32Array.from([1.5, -2, 3.25])), expect: 'ok' },
  { name: '5 .npy with its data at an odd offset', reader: 'npy', bytes: () => npyFile([3], Float32Array.from([1.5, -2, 3.25]), 1), expect: 'ok' },
  // 13: PNG bombs (gather, decodeImage)
  { name: '13 a 16384x16384 RGBA PNG (1 GiB of pixels)', reader: 'png', bytes: () => pngBomb(16384, 16384, 1 << 20), expect: 'IO', reason: 'TOO_LARGE', named: '16384x16384' },
  { name: '13 a 64x64 PNG whose image data inflates to 64 MiB', reader: 'png', bytes: () => pngBomb(64, 64, 64 << 20), expect: 'IO', reason: 'TOO_LARGE', named: '16448' },
  { name: '13 a 4096x4096 RGBA PNG of zeros, at the pixel limit (valid)', reader: 'png', bytes: () => pngBomb(4096, 4096, (4096 * 4 + 1) * 4096), expect: 'ok' },
  // 6: a deeply nested header
  // #18 item 5: files of another kind given as weights or latents are named, with what was expected
  { name: '18 a JPEG given as weights', reader: 'weights', bytes: jpegStart, expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: 'JPEG' },
  { name: '18 a PNG given as weights', reader: 'weights', bytes: smallPng, expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: 'PNG' },
  { name: '18 an HTML login page given as weights', reader: 'weights', bytes: htmlPage, expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: 'HTML' },
  { name: '18 a text file given as weights', reader: 'weights', bytes: textFile, expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: 'text file' },
  { name: '18 a zip that is not a checkpoint given as weights', reader: 'weights', bytes: plainZip, expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: '"readme.txt", "images/a.png"' },
  { name: '18 a latent .npy given as weights', reader: 'weights', bytes: () => npyFile([3], Float32Array.from([1, 2, 3])), expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: 'NumPy' },
  { name: '18 unknown binary given as weights', reader: 'weights', bytes: () => Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 255), expect: 'WEIGHTS_CORRUPT', reason: 'WRONG_FORMAT', named: '0b 30 55' },
  { name: '18 a JPEG given as a .npy latent', reader: 'latent', ext: '.npy', bytes: jpegStart, expect: 'LATENT_CORRUPT', reason: 'WRONG_FORMAT', named: 'JPEG' },
  { name: '18 a checkpoint given as a .safetensors latent', reader: 'latent', ext: '.safetensors', bytes: () => new Uint8Array(readFileSync(TAEF2_PTH)), expect: 'LATENT_CORRUPT', reason: 'WRONG_FORMAT', named: '--weights' },
  { name: '18 a truncated .npy latent: a latent code', reader: 'latent', ext: '.npy', bytes: () => npyFile([4], Float32Array.from([1, 2, 3, 4])).slice(0, -3), expect: 'LATENT_CORRUPT', reason: 'TRUNCATED', named: '(4)' },
  { name: '18 a damaged .safetensors latent: a latent code', reader: 'latent', ext: '.safetensors', bytes: () => safetensorsFromText('{"latent":{"dtype":"F32","shape":[2],"data_offsets":[0,9]}}', new Uint8Array(9)), expect: 'LATENT_CORRUPT', reason: 'BAD_LAYOUT', named: '[0,9]' },
  // #19 item 7: a header claims a body that is not there, or too much of one: refused from the header
  { name: '19 a .npy header claiming 1.6e9 values', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 20000, 20000), }"), expect: 'LATENT_CORRUPT', reason: 'TOO_LARGE', named: '1600000000' },
  // #19 item 10: .npy headers read as numpy reads them, float64 beyond float32's range named
  { name: '19 a .npy header with a repeated key: the last one counts, as in numpy (valid)', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (9,), 'shape': (2,), }", new Uint8Array(8)), expect: 'ok' },
  { name: '19 a .npy header with a repeated key whose last value is wrong', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (9,), }", new Uint8Array(8)), expect: 'LATENT_CORRUPT', reason: 'TRUNCATED', named: '(9)' },
  { name: '19 a .npy shape (8.0,)', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (8.0,), }", new Uint8Array(32)), expect: 'LATENT_CORRUPT', reason: 'MALFORMED', named: '.0,)' },
  { name: '19 a .npy shape (-1,)', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }"), expect: 'LATENT_CORRUPT', reason: 'MALFORMED' },
  { name: '19 a .npy with a key numpy does not write', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'evil': 'x'}", new Uint8Array(4)), expect: 'LATENT_CORRUPT', reason: 'MALFORMED', named: '"evil"' },
  { name: '19 a <f8 .npy holding 1e300', reader: 'npy', bytes: () => npyFromHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64([1, 1e300, 2])), expect: 'LATENT_OUT_OF_RANGE', reason: 'OUT_OF_RANGE', named: '1e+300' },
  { name: '19 an F64 .safetensors latent holding -1e39', reader: 'latent', ext: '.safetensors', bytes: () => f64Safetensors([0, -1e39]), expect: 'LATENT_OUT_OF_RANGE', reason: 'OUT_OF_RANGE', named: '-1e+39' },
  { name: '19 an F64 .safetensors latent at float32\'s largest value (valid)', reader: 'latent', ext: '.safetensors', bytes: () => f64Safetensors([3.4028234663852886e38, -3.4028234663852886e38]), expect: 'ok' },
  { name: '6 a safetensors header nested 20,000 levels deep', reader: 'weights', bytes: () => safetensorsFromText(`{"x":{"dtype":"F32","shape":${'['.repeat(20_000)}${']'.repeat(20_000)},"data_offsets":[0,0]}}`), expect: 'WEIGHTS_CORRUPT', reason: 'MALFORMED', named: 'tensor x' },
];

/**
 * A zip of entries named `names` (each 14 characters long), each holding `deflated` and claiming
 * `size` uncompressed bytes (a claim, not checked here; the CRC is left 0).
 */
function deflatedEntries(deflated: Uint8Array, size: number, names: string[]): Uint8Array {
  const zip = zipSync({ [names[0]!]: [new Uint8Array(0), { level: 9 }] });
  const copies = names.length;
  const v = new DataView(zip.buffer, zip.byteOffset);
  const nameLength = v.getUint16(26, true);
  const extraLength = v.getUint16(28, true);
  const localLength = 30 + nameLength + extraLength;
  const dirAt = v.getUint32(zip.length - 22 + 16, true);
  const central = zip.slice(dirAt, zip.length - 22);
  const parts: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < copies; i++) {
    const local = zip.slice(0, localLength);
    const name = names[i]!;
    const lv = new DataView(local.buffer);
    lv.setUint32(14, 0, true); // CRC: never reached, the size cap or the inflate cap fires first
    lv.setUint32(18, deflated.length, true);
    lv.setUint32(22, size, true);
    local.set(enc.encode(name), 30);
    const c = central.slice();
    const cv = new DataView(c.buffer);
    cv.setUint32(16, 0, true);
    cv.setUint32(20, deflated.length, true);
    cv.setUint32(24, size, true);
    cv.setUint32(42, at, true);
    c.set(enc.encode(name), 46);
    parts.push(local, deflated);
    centrals.push(c);
    at += local.length + deflated.length;
  }
  const end = zip.slice(zip.length - 22);
  const ev = new DataView(end.buffer);
  ev.setUint16(8, copies, true);
  ev.setUint16(10, copies, true);
  ev.setUint32(12, centrals.reduce((n, c) => n + c.length, 0), true);
  ev.setUint32(16, at, true);
  return concat([...parts, ...centrals, end]);
}
