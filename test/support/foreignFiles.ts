// Generated files of the wrong kind and hostile .npy/.safetensors latents (issue #18 item 5,
// issue #19 items 7 and 10): each made here from code, none committed.
import { zipSync, zlibSync } from 'fflate';
import { chunk, concat, ihdr, PNG_SIGNATURE } from '../../src/image/pngChunks.js';

const enc = new TextEncoder();

/** A JPEG's start (SOI, a JFIF APP0 segment, a comment) and then bytes: what the sniffer sees of a photo. */
export function jpegStart(): Uint8Array {
  const app0 = [0xff, 0xe0, 0x00, 0x10, ...enc.encode('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0];
  const comment = enc.encode('a photo, not weights');
  return Uint8Array.from([0xff, 0xd8, ...app0, 0xff, 0xfe, 0, comment.length + 2, ...comment, ...new Uint8Array(64).fill(0x55), 0xff, 0xd9]);
}

/** A real 4x4 RGBA PNG. */
export function smallPng(): Uint8Array {
  return concat([PNG_SIGNATURE, chunk('IHDR', ihdr(4, 4, true)), chunk('IDAT', zlibSync(new Uint8Array((4 * 4 + 1) * 4))), chunk('IEND', new Uint8Array(0))]);
}

/** What a download link that answers with a login page saves. */
export const htmlPage = (): Uint8Array => enc.encode('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Sign in to download taef2_decoder.pth</body></html>\n');

export const textFile = (): Uint8Array => enc.encode('These are not weights.\nJust a README someone renamed to .safetensors.\n');

/** A zip of ordinary files: not torch.save's layout. */
export const plainZip = (): Uint8Array => zipSync({ 'readme.txt': enc.encode('hello'), 'images/a.png': smallPng() });

/** A .npy file from header text and data bytes, version 1.0, the header padded with spaces to 16 bytes and ended by a newline. */
export function npyFromHeader(header: string, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  let h = header;
  while ((10 + h.length + 1) % 16 !== 0) h += ' ';
  h += '\n';
  const out = new Uint8Array(10 + h.length + data.length);
  out.set([0x93, ...enc.encode('NUMPY'), 1, 0, h.length & 255, h.length >> 8]);
  out.set(enc.encode(h), 10);
  out.set(data, 10 + h.length);
  return out;
}

/** Little-endian float64 bytes of `values`. */
export function f64(values: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

/** A latent stored as F64 in a safetensors file (so values past float32's range can be written). */
export function f64Safetensors(values: number[]): Uint8Array {
  const data = f64(values);
  const h = enc.encode(JSON.stringify({ latent: { dtype: 'F64', shape: [values.length], data_offsets: [0, data.length] } }));
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}
