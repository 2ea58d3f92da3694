// Inflating data whose size is known in advance (a zip entry's, a PNG's pixel rows), without
// trusting the compressed stream to stop there: a deflate stream can expand 1032-fold.
import { Inflate, Unzlib } from 'fflate';
import { isTaesdError, type TaesdErrorReason } from '../errors.js';

/** Compressed input is fed in pieces this big, so one piece inflates to at most ~4 MiB (~50 ms) before the size is checked. */
const PIECE_BYTES = 4 * 1024;

/**
 * Inflates `data` (raw deflate, or zlib-wrapped) into exactly `size` bytes. Stops as soon as
 * the output would pass `size`, so time and memory stay bounded by `size` whatever the input
 * claims. Calls `corrupt` (which throws) for bad data or any other length.
 */
export function inflateExactly(data: Uint8Array, size: number, format: 'deflate' | 'zlib', corrupt: (reason: TaesdErrorReason, problem: string) => never): Uint8Array {
  const out = new Uint8Array(size);
  let length = 0;
  const inflater = new (format === 'zlib' ? Unzlib : Inflate)((chunk) => {
    if (length + chunk.length > size) corrupt('TOO_LARGE', `inflates to more than the ${size} bytes it should`);
    out.set(chunk, length);
    length += chunk.length;
  });
  try {
    for (let at = 0; at < data.length; at += PIECE_BYTES) inflater.push(data.subarray(at, at + PIECE_BYTES), at + PIECE_BYTES >= data.length);
  } catch (e) {
    if (isTaesdError(e)) throw e;
    corrupt('MALFORMED', `holds corrupt compressed data (${(e as Error).message})`);
  }
  if (length !== size) corrupt('TRUNCATED', `inflates to ${length} bytes, not the ${size} it should`);
  return out;
}
