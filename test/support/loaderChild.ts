// Runs one loader on one file in a process of its own, for tests that bound its time and peak
// memory: `node loaderChild.mjs <weights|npy|latent|png> <file>` prints one JSON line (see LoaderOutcome).
import { readFileSync } from 'node:fs';
import { isTaesdError } from '../../src/errors.js';
import { decodePng } from '../../src/image/pngDecode.js';
import { latentFromFile } from '../../src/model/latentFile.js';
import { parseWeights } from '../../src/weights/load.js';
import { parseNpy } from '../../src/weights/npy.js';
import { peakRssMiB } from './peakRss.js';

export interface LoaderOutcome {
  /** 'ok' with the tensor (or pixel) count, 'typed' with the TaesdError's code, or 'untyped' with the error's name. */
  readonly outcome: 'ok' | 'typed' | 'untyped';
  readonly detail: string;
  /** The TaesdError's reason, when it gives one. */
  readonly reason?: string;
  readonly message?: string;
  /** The parse alone, ms. */
  readonly ms: number;
  /** The process's peak resident memory, MiB. */
  readonly maxRssMiB: number;
}

const [reader, file] = process.argv.slice(2) as ['weights' | 'npy' | 'latent' | 'png', string];
const read = { weights: (b: Uint8Array) => parseWeights(b, file).size, npy: (b: Uint8Array) => parseNpy(b, file).data.length, latent: (b: Uint8Array) => latentFromFile(b, file).latent.data.length, png: (b: Uint8Array) => decodePng(b).data.length / 4 }[reader];
const bytes = readFileSync(file); // a Buffer, as the CLI and Node callers pass
const start = performance.now();
let result: Omit<LoaderOutcome, 'ms' | 'maxRssMiB'>;
try {
  result = { outcome: 'ok', detail: String(read(bytes)) };
} catch (e) {
  result = isTaesdError(e) ? { outcome: 'typed', detail: e.code, reason: e.reason, message: e.message } : { outcome: 'untyped', detail: (e as Error).name, message: String((e as Error).message) };
}
const ms = performance.now() - start;
process.stdout.write(`${JSON.stringify({ ...result, ms, maxRssMiB: peakRssMiB() })}\n`);
