import { zlibSync } from 'fflate';
import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { checkImage, isOpaque } from './image.js';
import { checkLevel } from './png.js';
import { chunk, concat, filterScanlines, ihdr, PNG_SIGNATURE } from './pngChunks.js';

export interface ApngOptions {
  /** Time each frame shows, ms, integer 1..65535 (default 100). */
  readonly delayMs?: number;
  /** Extra time the last frame shows, ms, integer 0..65535 (default 1000), so the result is seen before the loop restarts. */
  readonly holdLastMs?: number;
  /** Times to play, 0 = forever (default 0). */
  readonly loops?: number;
  /** zlib level 0..9 (default 3), as for encodePng. */
  readonly level?: number;
}

/**
 * Encodes frames (all the same size) as an animated PNG: every frame full-size, replacing the
 * previous one (dispose none, blend source). The first frame is also the default image, so a
 * viewer without APNG support shows it. Memory and time: about one encodePng per frame.
 */
export function encodeApng(frames: readonly RgbaImage[], options: ApngOptions = {}): Uint8Array {
  if (frames.length === 0) fail('BAD_OPTION', 'APNG: no frames');
  const { width, height } = frames[0]!;
  frames.forEach((f, i) => {
    checkImage(f, `APNG frame ${i}`);
    if (f.width !== width || f.height !== height)
      fail('BAD_OPTION', `APNG: frame ${i} is ${f.width}x${f.height}, frame 0 is ${width}x${height}`);
  });
  const delay = options.delayMs ?? 100, hold = options.holdLastMs ?? 1000, loops = options.loops ?? 0;
  if (!Number.isInteger(delay) || delay < 1 || delay > 65535) fail('BAD_OPTION', `APNG delayMs must be an integer 1..65535, got ${delay}`);
  if (!Number.isInteger(hold) || hold < 0 || delay + hold > 65535) fail('BAD_OPTION', `APNG holdLastMs must be an integer 0..${65535 - delay}, got ${hold}`);
  if (!Number.isInteger(loops) || loops < 0 || loops > 2 ** 31 - 1) fail('BAD_OPTION', `APNG loops must be an integer >= 0, got ${loops}`);
  const level = checkLevel(options.level ?? 3);
  const alpha = !frames.every(isOpaque);

  const parts: Uint8Array[] = [PNG_SIGNATURE, chunk('IHDR', ihdr(width, height, alpha))];
  const actl = new Uint8Array(8);
  new DataView(actl.buffer).setUint32(0, frames.length);
  new DataView(actl.buffer).setUint32(4, loops);
  parts.push(chunk('acTL', actl));
  let seq = 0;
  frames.forEach((frame, i) => {
    const fctl = new Uint8Array(26);
    const v = new DataView(fctl.buffer);
    v.setUint32(0, seq++);
    v.setUint32(4, width);
    v.setUint32(8, height);
    // x/y offsets 0; delay as a fraction of a second: ms / 1000
    v.setUint16(20, i === frames.length - 1 ? delay + hold : delay);
    v.setUint16(22, 1000);
    // dispose_op 0 (none), blend_op 0 (source)
    parts.push(chunk('fcTL', fctl));
    const z = zlibSync(filterScanlines(frame.data, width, height, alpha), { level });
    if (i === 0) parts.push(chunk('IDAT', z));
    else {
      const fdat = new Uint8Array(4 + z.length);
      new DataView(fdat.buffer).setUint32(0, seq++);
      fdat.set(z, 4);
      parts.push(chunk('fdAT', fdat));
    }
  });
  parts.push(chunk('IEND', new Uint8Array(0)));
  return concat(parts);
}
