// NumPy .npy reader (format versions 1-3), for latent files:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
import { fail } from '../errors.js';
import { toFloat32 } from './safetensors.js';
import { elementCount } from './tensor.js';

/** An array read from a .npy file: float32 values, or float16 bits as stored. */
export type NpyArray =
  | { readonly dtype: 'F32'; readonly shape: number[]; readonly data: Float32Array }
  | { readonly dtype: 'F16'; readonly shape: number[]; readonly data: Uint16Array };

/** Bytes per element of the dtypes read. */
const SIZES: Readonly<Record<string, number>> = { '<f2': 2, '<f4': 4, '<f8': 8 };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Longest header read: numpy's own default limit (`max_header_size`); real ones are 118 bytes or so. */
export const MAX_NPY_HEADER_BYTES = 10_000;

/**
 * Reads a C-ordered little-endian float array from a .npy file: `<f4` as float32, `<f2` as
 * float16 bits (Uint16Array), `<f8` converted to float32. `name` (default `"npy"`) names the
 * file in errors. Throws WEIGHTS_CORRUPT for a damaged file or any other dtype or layout.
 */
export function parseNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  function corrupt(problem: string): never {
    fail('WEIGHTS_CORRUPT', `${name}: ${problem}`);
  }
  if (bytes.byteLength < 10 || MAGIC.some((b, i) => bytes[i] !== b)) corrupt('not a .npy file (no \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  if (major < 1 || major > 3) corrupt(`unknown .npy format version ${major}.${bytes[7]}`);
  const start = major === 1 ? 10 : 12;
  if (bytes.byteLength < start) corrupt('truncated inside the .npy preamble');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (headerLength > MAX_NPY_HEADER_BYTES) corrupt(`header of ${headerLength} bytes is over the ${MAX_NPY_HEADER_BYTES}-byte limit`);
  if (start + headerLength > bytes.byteLength) corrupt(`truncated: header of ${headerLength} bytes runs past the end of the ${bytes.byteLength}-byte file`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start, start + headerLength));

  // The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (4, 64, 64), }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) corrupt(`header ${JSON.stringify(header.trim().slice(0, 200))} lacks descr, fortran_order or shape`);
  if (fortran === 'True') corrupt('array is in Fortran (column-major) order; save it C-ordered (np.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => Number(s.replace(/L$/, '')));
  if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0)) corrupt(`shape (${shapeText}) is not a tuple of non-negative integers`);
  const size = Object.hasOwn(SIZES, descr) ? SIZES[descr]! : corrupt(`dtype ${descr} is not read (only little-endian float: <f2, <f4, <f8)`);

  const count = elementCount(shape);
  const data = bytes.subarray(start + headerLength);
  if (data.byteLength !== count * size) {
    corrupt(`${descr} (${shape.join(',')}) needs ${count * size} data bytes but the file holds ${data.byteLength}${data.byteLength < count * size ? ' (truncated)' : ''}`);
  }
  if (size === 2) {
    const bits = new Uint16Array(count);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let i = 0; i < count; i++) bits[i] = dv.getUint16(i * 2, true);
    return { dtype: 'F16', shape, data: bits };
  }
  return { dtype: 'F32', shape, data: toFloat32(size === 4 ? 'F32' : 'F64', data, count) };
}
