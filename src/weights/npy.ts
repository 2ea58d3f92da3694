// NumPy .npy reader (format versions 1-3), for latent files:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { fail, type TaesdErrorReason } from '../errors.js';
import { toFloat32 } from './safetensors.js';
import { elementCount, MAX_ELEMENTS } from './tensor.js';

/** An array read from a .npy file: float32 values, or float16 bits as stored. */
export type NpyArray =
  | { readonly dtype: 'F32'; readonly shape: number[]; readonly data: Float32Array }
  | { readonly dtype: 'F16'; readonly shape: number[]; readonly data: Uint16Array };

/** Bytes per element of the dtypes read. */
const SIZES: Readonly<Record<string, number>> = { '<f2': 2, '<f4': 4, '<f8': 8 };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Longest header read: numpy's own default limit (`max_header_size`); real ones are 118 bytes or so. */
export const MAX_NPY_HEADER_BYTES = 10_000;

/** What a .npy header says, checked: the data is `dataBytes` bytes from `dataStart`, the file's end. */
export interface NpyHeader {
  readonly descr: string;
  readonly shape: number[];
  readonly dataStart: number;
  readonly dataBytes: number;
}

function corrupt(name: string, reason: TaesdErrorReason, problem: string): never {
  fail('LATENT_CORRUPT', `${name}: ${problem}`, { reason });
}

/** One token of a header's Python dict literal: a quoted string, True/False, an integer, or punctuation. */
const TOKEN = /\s*(?:'([^'\\]*)'|"([^"\\]*)"|(True|False)|(\d+)L?|([{}():,]))/y;

type Value = string | boolean | number[];

/**
 * The header's dict literal, as numpy's `ast.literal_eval` reads it: string keys; values a
 * string, True/False or a tuple of integers. A repeated key takes its last value, as in Python.
 */
function headerDict(text: string, name: string): Map<string, Value> {
  const tokens: string[] = [];
  const values: (string | boolean | number | null)[] = [];
  let pos = 0;
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m; pos = TOKEN.lastIndex, m = TOKEN.exec(text)) {
    if (m[1] !== undefined || m[2] !== undefined) { tokens.push('s'); values.push(m[1] ?? m[2]!); }
    else if (m[3] !== undefined) { tokens.push('b'); values.push(m[3] === 'True'); }
    else if (m[4] !== undefined) { tokens.push('i'); values.push(Number(m[4])); }
    else { tokens.push(m[5]!); values.push(null); }
  }
  if (text.slice(pos).trim() !== '') corrupt(name, 'MALFORMED', `header is not a dict of strings, booleans and integer tuples at ${JSON.stringify(text.slice(pos, pos + 20))}`);
  const dict = new Map<string, Value>();
  let at = 0;
  const expect = (t: string) => (tokens[at] === t ? at++ : corrupt(name, 'MALFORMED', `header ${JSON.stringify(text.trim().slice(0, 200))} is not a Python dict literal`));
  expect('{');
  while (tokens[at] !== '}') {
    expect('s');
    const key = values[at - 1] as string;
    expect(':');
    if (tokens[at] === 's' || tokens[at] === 'b') dict.set(key, values[at++] as string | boolean);
    else {
      expect('(');
      const dims: number[] = [];
      while (tokens[at] === 'i') {
        dims.push(values[at++] as number);
        if (tokens[at] === ',') at++;
        else break;
      }
      expect(')');
      dict.set(key, dims);
    }
    if (tokens[at] === ',') at++;
    else break;
  }
  expect('}');
  if (at !== tokens.length) corrupt(name, 'MALFORMED', 'header has text after its dict');
  return dict;
}

/**
 * Reads and checks a .npy preamble and header from the file's first bytes (the header must be in
 * `bytes`; the data need not be): dtype, C order, integer dimensions, at most MAX_ELEMENTS
 * values. `fileLength` (default `bytes.byteLength`) must be exactly header plus data.
 */
export function readNpyHeader(bytes: Uint8Array, name = 'npy', fileLength = bytes.byteLength): NpyHeader {
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) corrupt(name, 'WRONG_FORMAT', 'not a .npy file (no \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) corrupt(name, 'UNSUPPORTED', `unknown .npy format version ${major}.${bytes[7]}`);
  const start = major === 1 ? 10 : 12;
  if (bytes.byteLength < start) corrupt(name, 'TRUNCATED', 'truncated inside the .npy preamble');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER_BYTES) corrupt(name, 'TOO_LARGE', `header of ${headerLength} bytes is over the ${MAX_NPY_HEADER_BYTES}-byte limit`);
  if (start + headerLength > Math.min(bytes.byteLength, fileLength)) corrupt(name, 'TRUNCATED', `truncated: header of ${headerLength} bytes runs past the end of the ${fileLength}-byte file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));

  // e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (4, 64, 64), }
  const dict = headerDict(header, name);
  const [descr, fortran, shape] = [dict.get('descr'), dict.get('fortran_order'), dict.get('shape')];
  if (typeof descr !== 'string' || typeof fortran !== 'boolean' || !Array.isArray(shape)) {
    corrupt(name, 'MALFORMED', `header ${JSON.stringify(header.trim().slice(0, 200))} lacks descr (a string), fortran_order (True/False) or shape (a tuple of integers)`);
  }
  const extra = [...dict.keys()].filter((k) => k !== 'descr' && k !== 'fortran_order' && k !== 'shape');
  if (extra.length) corrupt(name, 'MALFORMED', `header has keys numpy does not write: ${extra.slice(0, 5).map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}`);
  if (fortran) corrupt(name, 'UNSUPPORTED', 'array is in Fortran (column-major) order; save it C-ordered (np.ascontiguousarray)');
  if (!shape.every((d) => Number.isSafeInteger(d))) corrupt(name, 'TOO_LARGE', `shape (${shape.join(', ')}) has a dimension past 2^53`);
  const size = Object.hasOwn(SIZES, descr) ? SIZES[descr]! : corrupt(name, 'UNSUPPORTED', `dtype ${descr.slice(0, 40)} is not read (only little-endian float: <f2, <f4, <f8)`);
  const count = elementCount(shape);
  if (count > MAX_ELEMENTS) corrupt(name, 'TOO_LARGE', `shape (${shape.join(', ')}) holds ${count} values, over the ${MAX_ELEMENTS}-value limit for a latent file`);
  const dataStart = start + headerLength;
  const held = fileLength - dataStart;
  if (held !== count * size) corrupt(name, held < count * size ? 'TRUNCATED' : 'BAD_LAYOUT', `${descr} (${shape.join(',')}) needs ${count * size} data bytes but the file holds ${held}${held < count * size ? ' (truncated)' : ''}`);
  return { descr, shape, dataStart, dataBytes: count * size };
}

/**
 * Reads a C-ordered little-endian float array from a .npy file: `<f4` as float32, `<f2` as
 * float16 bits (Uint16Array), `<f8` converted to float32. `name` (default `"npy"`) names the
 * file in errors. Throws LATENT_CORRUPT for a damaged file or any other dtype or layout, and
 * LATENT_OUT_OF_RANGE for a finite `<f8` value beyond float32's range.
 */
export function parseNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  const { descr, shape, dataStart } = readNpyHeader(bytes, name);
  const count = elementCount(shape);
  const data = bytes.subarray(dataStart);
  if (descr === '<f2') {
    const bits = new Uint16Array(count);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < count; i++) bits[i] = dv.getUint16(i * 2, true);
    return { dtype: 'F16', shape, data: bits };
  }
  const outOfRange = (i: number, v: number): never => fail('LATENT_OUT_OF_RANGE', `${name}: float64 value ${v} at element ${i} is beyond float32's range (+-3.4e38): it would become Infinity`, { reason: 'OUT_OF_RANGE' });
  return { dtype: 'F32', shape, data: toFloat32(descr === '<f4' ? 'F32' : 'F64', data, count, true, outOfRange) };
}
