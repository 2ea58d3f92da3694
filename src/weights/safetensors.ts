// safetensors reader and writer, validating as the format's spec asks:
// https://github.com/huggingface/safetensors#format
import { fail, type TaesdErrorCode, type TaesdErrorReason } from '../errors.js';
import { bfloat16ToFloat, halfToFloat } from './half.js';
import { elementCount, MAX_ELEMENTS, type DType, type StateDict } from './tensor.js';

/** Bytes per element of each dtype we read. */
export const DTYPE_SIZE: Readonly<Record<DType, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1,
};

/**
 * Headers past this are refused (the reference implementation's cap is 100 MB): TAESD's are
 * ~10 KB, a diffusers AutoencoderTiny's ~20 KB, and parsed JSON costs ~20x its text.
 */
export const MAX_HEADER_BYTES = 2 ** 20;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | null = null;
/** All 65536 float16 values, built on first use: a table lookup per element beats the arithmetic. */
function halves(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

function isDType(s: unknown): s is DType {
  return typeof s === 'string' && Object.hasOwn(DTYPE_SIZE, s);
}

/** `bytes`, or an aligned copy when its offset is not a multiple of `size` (`new Uint8Array` copies; a Buffer's `slice` would not). */
function aligned(bytes: Uint8Array, size: number): { buffer: ArrayBufferLike; byteOffset: number } {
  return bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
}

/** Called with the first finite float64 value that float32 cannot hold (it would become Infinity); must throw. */
export type OutOfRange = (index: number, value: number) => never;

/** The first element where float64 `source` was finite but its float32 conversion is not. */
function checkRange(source: Float64Array, out: Float32Array, outOfRange: OutOfRange): Float32Array {
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i]) && Number.isFinite(source[i])) outOfRange(i, source[i]!);
  return out;
}

/**
 * Converts `count` elements of `dtype` stored in `bytes` to float32 (a new array, never a view
 * of `bytes`). Integers and booleans convert exactly up to 2^24; int64 beyond 2^53 loses digits.
 * A finite float64 beyond float32's range calls `outOfRange` (default: it becomes +-Infinity).
 */
export function toFloat32(dtype: DType, bytes: Uint8Array, count: number, littleEndian = true, outOfRange?: OutOfRange): Float32Array {
  if (bytes.byteLength < count * DTYPE_SIZE[dtype]) fail('BAD_OPTION', `toFloat32: ${count} ${dtype} elements need ${count * DTYPE_SIZE[dtype]} bytes, got ${bytes.byteLength}`);
  if (littleEndian === HOST_LITTLE_ENDIAN) {
    // Fast paths: the stored order is the host's, so typed arrays read it directly.
    if (dtype === 'F32') { const a = aligned(bytes, 4); return new Float32Array(a.buffer, a.byteOffset, count).slice(); }
    if (dtype === 'F64') {
      const a = aligned(bytes, 8);
      const source = new Float64Array(a.buffer, a.byteOffset, count);
      const out = Float32Array.from(source);
      return outOfRange ? checkRange(source, out, outOfRange) : out;
    }
    if (dtype === 'F16') {
      const a = aligned(bytes, 2);
      const bits = new Uint16Array(a.buffer, a.byteOffset, count);
      const table = halves();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[bits[i]!]!;
      return out;
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read: (i: number) => number = {
    F64: (i: number) => view.getFloat64(i * 8, littleEndian),
    F32: (i: number) => view.getFloat32(i * 4, littleEndian),
    F16: (i: number) => halfToFloat(view.getUint16(i * 2, littleEndian)),
    BF16: (i: number) => bfloat16ToFloat(view.getUint16(i * 2, littleEndian)),
    I64: (i: number) => Number(view.getBigInt64(i * 8, littleEndian)),
    I32: (i: number) => view.getInt32(i * 4, littleEndian),
    I16: (i: number) => view.getInt16(i * 2, littleEndian),
    I8: (i: number) => view.getInt8(i),
    U8: (i: number) => view.getUint8(i),
    BOOL: (i: number) => (view.getUint8(i) ? 1 : 0),
  }[dtype];
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(i);
  if (dtype === 'F64' && outOfRange) for (let i = 0; i < count; i++) if (!Number.isFinite(out[i]) && Number.isFinite(read(i))) outOfRange(i, read(i));
  return out;
}

/** One tensor of a safetensors header: its data lies at [begin, end) after the header. */
export interface SafetensorsEntry { key: string; dtype: DType; shape: number[]; begin: number; end: number }

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** A header value for a message: JSON when short and flat, else its kind (JSON.stringify of a deeply nested value overflows the stack). */
function brief(v: unknown): string {
  const flat = v === null || typeof v !== 'object' || (Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object'));
  if (!flat) return Array.isArray(v) ? `a nested list of ${v.length}` : 'an object';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

export interface SafetensorsHeader {
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Record<string, string>;
  /** Where tensor data starts; the file is exactly dataStart plus the last tensor's end. */
  readonly dataStart: number;
}

/**
 * Reads and checks a safetensors header from the file's first bytes (`bytes` may stop after the
 * header; `fileLength` is the whole file's), so a file on disk is judged before its body is read.
 * `kind` picks the error codes: weights (WEIGHTS_CORRUPT) or a latent (LATENT_CORRUPT).
 */
export function readSafetensorsHeader(bytes: Uint8Array, name: string, kind: 'weights' | 'latent' = 'weights', fileLength = bytes.byteLength): SafetensorsHeader {
  const code: TaesdErrorCode = kind === 'latent' ? 'LATENT_CORRUPT' : 'WEIGHTS_CORRUPT';
  function corrupt(reason: TaesdErrorReason, problem: string): never {
    fail(code, `${name}: ${problem}`, { reason });
  }
  if (bytes.byteLength < 8) corrupt('TRUNCATED', `truncated: ${bytes.byteLength} bytes is too short for a safetensors file (8-byte header length)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) corrupt('TOO_LARGE', `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte cap: not a safetensors file`);
  const headerLength = Number(n);
  if (8 + headerLength > fileLength) corrupt('TRUNCATED', `truncated: header of ${headerLength} bytes runs past the end of the ${fileLength}-byte file`);
  if (8 + headerLength > bytes.byteLength) corrupt('TRUNCATED', `header of ${headerLength} bytes runs past the ${bytes.byteLength} bytes read`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch (e) {
    corrupt('MALFORMED', `header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) corrupt('MALFORMED', 'header is not a JSON object');

  // Object.fromEntries below, not assignment: a "__proto__" key stays a plain key.
  const metadata: [string, string][] = [];
  const entries: SafetensorsEntry[] = [];
  for (const [key, value] of Object.entries(header as Record<string, unknown>)) {
    if (key === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) corrupt('MALFORMED', '__metadata__ is not an object');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') corrupt('MALFORMED', `__metadata__ value ${brief(k)} is not a string`);
        metadata.push([k, v]);
      }
      continue;
    }
    if (typeof value !== 'object' || value === null) corrupt('MALFORMED', `tensor ${key}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(dtype)) corrupt('UNSUPPORTED', `tensor ${key}: unsupported dtype ${brief(dtype)} (read: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    if (!Array.isArray(shape) || !shape.every(isCount)) corrupt('MALFORMED', `tensor ${key}: shape ${brief(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      corrupt('MALFORMED', `tensor ${key}: data_offsets ${brief(offsets)} is not [begin, end] with 0 <= begin <= end`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape) * DTYPE_SIZE[dtype];
    if (end - begin !== expected) {
      corrupt('BAD_LAYOUT', `tensor ${key}: ${dtype} [${shape.join(',')}] needs ${expected} bytes but data_offsets [${begin},${end}] span ${end - begin}`);
    }
    entries.push({ key, dtype, shape, begin, end });
  }

  let elements = 0;
  for (const e of entries) {
    elements += elementCount(e.shape);
    if (elements > MAX_ELEMENTS) corrupt('TOO_LARGE', `tensor ${e.key} [${e.shape.join(',')}] brings the file to over ${MAX_ELEMENTS} elements`);
  }

  const dataStart = 8 + headerLength;
  const dataLength = fileLength - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of entries) {
    if (e.end > dataLength) corrupt('TRUNCATED', `truncated: tensor ${e.key} ends at byte ${e.end} but file data is ${dataLength} bytes`);
    if (e.begin < cursor) corrupt('BAD_LAYOUT', `tensor ${e.key}: data_offsets [${e.begin},${e.end}] overlap the previous tensor, which ends at ${cursor}`);
    if (e.begin > cursor) corrupt('BAD_LAYOUT', `tensor ${e.key}: data_offsets [${e.begin},${e.end}] leave a gap after byte ${cursor}`);
    cursor = e.end;
  }
  if (cursor !== dataLength) corrupt('BAD_LAYOUT', `${dataLength - cursor} bytes after the last tensor (data ends at ${cursor}, file data is ${dataLength} bytes)`);
  return { entries, metadata: Object.fromEntries(metadata), dataStart };
}

/**
 * Reads a safetensors file: every tensor converted to float32 (the stored dtype is kept in
 * `Tensor.dtype`), and the header's `__metadata__`. `name` (default `"safetensors"`) names the
 * file in errors. Validates the whole header before converting anything; throws WEIGHTS_CORRUPT
 * (for `kind: 'latent'`, LATENT_CORRUPT), and for a finite float64 beyond float32's range
 * WEIGHTS_CORRUPT (LATENT_OUT_OF_RANGE).
 */
export function parseSafetensors(bytes: Uint8Array, name = 'safetensors', kind: 'weights' | 'latent' = 'weights'): { tensors: StateDict; metadata: Record<string, string> } {
  const { entries, metadata, dataStart } = readSafetensorsHeader(bytes, name, kind);
  const tensors: StateDict = new Map();
  for (const e of entries) {
    const outOfRange: OutOfRange = (i, v) =>
      fail(kind === 'latent' ? 'LATENT_OUT_OF_RANGE' : 'WEIGHTS_CORRUPT', `${name}: tensor ${e.key} holds ${v} at element ${i}, beyond float32's range (+-3.4e38): it would become Infinity`, { reason: 'OUT_OF_RANGE' });
    const data = toFloat32(e.dtype, bytes.subarray(dataStart + e.begin, dataStart + e.end), elementCount(e.shape), true, outOfRange);
    tensors.set(e.key, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** A tensor to write: float32 values, or float16/bfloat16 bits. */
export type EncodableTensor =
  | { readonly dtype: 'F32'; readonly shape: readonly number[]; readonly data: Float32Array }
  | { readonly dtype: 'F16' | 'BF16'; readonly shape: readonly number[]; readonly data: Uint16Array };

/**
 * Writes tensors (in the given key order, packed back to back, little-endian) and optional
 * string metadata as a safetensors file. The header is space-padded to 8 bytes, as the
 * reference writer does. Throws BAD_OPTION when data length or type disagrees with dtype and
 * shape, for a tensor named `__metadata__` (the format's reserved key) or `__proto__`, and for
 * metadata values that are not strings: files parseSafetensors would refuse are never written.
 */
export function encodeSafetensors(tensors: Readonly<Record<string, EncodableTensor>>, metadata?: Readonly<Record<string, string>>): Uint8Array {
  // No prototype: a "__proto__" key is then refused below instead of silently setting one.
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata && Object.keys(metadata).length) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') fail('BAD_OPTION', `encodeSafetensors: metadata ${JSON.stringify(k)} is a ${v === null ? 'null' : typeof v}; safetensors metadata values are strings`, { reason: 'MALFORMED' });
    }
    header['__metadata__'] = metadata;
  }
  let offset = 0;
  for (const [key, t] of Object.entries(tensors)) {
    if (key === '__metadata__' || key === '__proto__') fail('BAD_OPTION', `encodeSafetensors: a tensor cannot be named ${key} (${key === '__metadata__' ? "the format's reserved key" : 'readers would take it for the prototype'})`, { reason: 'RESERVED_NAME' });
    const count = elementCount(t.shape);
    const typeOk = t.dtype === 'F32' ? t.data instanceof Float32Array : t.data instanceof Uint16Array;
    if (!typeOk || t.data.length !== count || !t.shape.every(isCount)) {
      fail('BAD_OPTION', `encodeSafetensors: tensor ${key} is ${t.dtype} [${t.shape.join(',')}] (${count} elements) but data is a ${t.data.constructor.name} of ${t.data.length}`, { reason: 'BAD_LAYOUT' });
    }
    const size = count * DTYPE_SIZE[t.dtype];
    header[key] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.byteLength;
  for (const t of Object.values(tensors)) {
    if (t.dtype === 'F32') for (const v of t.data) { view.setFloat32(p, v, true); p += 4; }
    else for (const v of t.data) { view.setUint16(p, v, true); p += 2; }
  }
  return out;
}
