// Golden cases: a latent and the reference decoder's raw float32 output, from ../shared/golden.
import { readFileSync } from 'node:fs';
import { resolveDecoderWeights, type DecoderWeights } from '../../src/model/weights.js';
import { parseWeights } from '../../src/weights/load.js';
import { parseSafetensors } from '../../src/weights/safetensors.js';
import type { Tensor } from '../../src/weights/tensor.js';
import { golden, TAEF2_PTH } from './shared.js';

export interface Golden { name: string; latent: Tensor; image: Tensor }

export function loadGolden(name: string): Golden {
  const { tensors } = parseSafetensors(readFileSync(golden(name)), name);
  return { name, latent: tensors.get('latent')!, image: tensors.get('image')! };
}

let taef2: DecoderWeights | undefined;
/** The upstream TAEF2 decoder that ships in models/ (the same F16 values as ../shared's .safetensors). */
export function taef2Weights(): DecoderWeights {
  taef2 ??= resolveDecoderWeights(parseWeights(readFileSync(TAEF2_PTH), 'taef2_decoder.pth'));
  return taef2;
}

/** The reference's 8-bit image, as the golden's note defines it: round(clamp(x,0,1)*255). */
export function toRgb8(planar: Float32Array, pixels: number): Uint8Array {
  const out = new Uint8Array(3 * pixels);
  for (let c = 0; c < 3; c++) for (let i = 0; i < pixels; i++) out[3 * i + c] = Math.round(Math.min(1, Math.max(0, planar[c * pixels + i]!)) * 255);
  return out;
}

/** max |a - b| per channel value between an RGBA image and a packed RGB one. */
export function maxLevelDiff(rgba: Uint8ClampedArray, rgb: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < rgb.length / 3; i++) for (let c = 0; c < 3; c++) m = Math.max(m, Math.abs(rgba[4 * i + c]! - rgb[3 * i + c]!));
  return m;
}
