// A seeded fuzzer of the weights and latent loaders, run in a child process of its own:
// `node fuzzLoaders.mjs <seed> <cases> <seconds>`. Case i is a function of (seed, i) alone, so
// any case replays by itself. Before each case it prints `case <i>` (so a hang names its case),
// and at the end one JSON line (FuzzSummary). Seeds are small valid files of each kind, plus the
// real TAEF2 checkpoint now and then; mutations act on raw bytes, on the pickle inside a
// re-zipped checkpoint (valid CRCs, so they reach the unpickler: opcode floods, huge stride-0
// views), and on header text (hostile numbers, deep nesting, .npy literals). Latents are read
// through latentFromFile too (float64 values past float32's range), and images, web pages, text
// and plain zips are given as weights and as latents. Half the inputs are Node Buffers
// at an odd offset, as files read from disk can be.
import { readFileSync } from 'node:fs';
import { unzipSync, zipSync } from 'fflate';
import { isTaesdError } from '../../src/errors.js';
import { floatsToHalves } from '../../src/weights/half.js';
import { parseWeights } from '../../src/weights/load.js';
import { latentFromFile } from '../../src/model/latentFile.js';
import { parseNpy } from '../../src/weights/npy.js';
import { encodeSafetensors } from '../../src/weights/safetensors.js';
import { f64, f64Safetensors, htmlPage, jpegStart, npyFromHeader, plainZip, smallPng, textFile } from './foreignFiles.js';
import { npyFile } from './hostileFiles.js';
import { peakRssMiB } from './peakRss.js';
import { checkpoint, floats, glob, int, stateDictPickle, str, tuple } from './pickles.js';
import { uniform } from './random.js';
import { TAEF2_PTH } from './shared.js';

export interface FuzzSummary {
  readonly cases: number;
  /** Outcomes by kind: `ok`, or a TaesdError code. */
  readonly outcomes: Record<string, number>;
  /** Errors that were not TaesdErrors: case index, seed kind, error. */
  readonly untyped: { case: number; seed: string; error: string }[];
  readonly slowest: { case: number; seed: string; ms: number };
  readonly peakRssMiB: number;
}

type Rng = () => number;
const below = (rng: Rng, n: number): number => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[below(rng, items.length)]!;

const INTERESTING = [0, 1, 2, 7, 8, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0xfffffffe, 0xffffffff];
const TEXT_NUMBERS = ['0', '-1', '1e308', '9007199254740993', '4294967296', '2.5', '[]', '{}', 'null', '"x"', '[[[[[[[[1]]]]]]]]', `${'['.repeat(20_000)}${']'.repeat(20_000)}`,
  // .npy header tokens: floats as dimensions, repeated keys, Python literals numpy's literal_eval takes or refuses
  '8.0', '(1, 2)', '()', "'shape': (9,), 'shape'", 'True', "'<f8'", "'|u1'", '0x10', '1_000', `${'('.repeat(5000)}${')'.repeat(5000)}`];
/** Values for float64 latents: beyond float32's range, at its edge, non-finite, subnormal. */
const F64_VALUES = [0, 1, -2.5, 3.4028234663852886e38, 3.4028235677973366e38, 3.5e38, -1e39, 1e300, -Number.MAX_VALUE, Infinity, NaN, 5e-324];
/** Files of other kinds, given as weights or latents. */
const FOREIGN = [jpegStart, smallPng, htmlPage, textFile, plainZip];
/** Dimensions for generated tensor views: real ones, and ones whose stride-0 products are huge. */
const DIMS = [0, 1, 2, 3, 4096, 65536];
/** Opcodes worth inserting into a pickle, with argument bytes where they take some. */
const OPCODES: readonly number[][] = [
  [0x28], [0x29], [0x30], [0x31], [0x32], [0x4e], [0x5d], [0x7d], [0x74], [0x6c], [0x64], [0x85], [0x86], [0x87], [0x73], [0x75], [0x61],
  [0x65], [0x62], [0x52], [0x51], [0x94], [0x88], [0x89], [0x2e], [0x71, 0], [0x68, 0], [0x68, 1], [0x4b, 255], [0x4a, 255, 255, 255, 127],
  [0x8a, 8, 255, 255, 255, 255, 255, 255, 255, 127], [0x58, 255, 255, 255, 255], [0x42, 4, 0, 0, 0], [0x54, 255, 255, 255, 255], [0x81], [0x93],
];

function seedCheckpoint(level: 0 | 6): Uint8Array {
  const pkl = stateDictPickle([
    { key: 'w', storage: '0', numel: 6, offset: 0, shape: [2, 3], stride: [3, 1] },
    { key: 't', storage: '0', numel: 6, offset: 1, shape: [2, 2], stride: [1, 2] },
    { key: 'h', storage: '1', type: 'HalfStorage', numel: 4, offset: 0, shape: [4], stride: [1] },
  ]);
  return checkpoint(pkl, { 0: floats([0, 1, 2, 3, 4, 5]), 1: new Uint8Array(floatsToHalves(Float32Array.from([1, -2, 0.5, 8])).buffer) }, 'little', level);
}

function seedSafetensors(): Uint8Array {
  return encodeSafetensors(
    {
      a: { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
      b: { dtype: 'F16', shape: [3], data: floatsToHalves(Float32Array.from([1, 2, 3])) },
      c: { dtype: 'BF16', shape: [1, 1], data: Uint16Array.of(0x3f80) },
    },
    { format: 'pt' },
  );
}

/** A tensor item `key: _rebuild_tensor_v2(storage 0 of `numel`, 0, shape, stride)` with random, sometimes huge, stride-0 dimensions. */
function randomTensor(rng: Rng): number[] {
  const rank = 1 + below(rng, 3);
  const shape = Array.from({ length: rank }, () => pick(rng, DIMS));
  const stride = shape.map(() => (rng() < 0.7 ? 0 : below(rng, 3)));
  const pid = tuple([str('storage'), glob('torch', 'FloatStorage'), str('0'), str('cpu'), int(below(rng, 9))]);
  return [...str(`k${below(rng, 4)}`), ...glob('torch._utils', '_rebuild_tensor_v2'), ...tuple([[...pid, 0x51], int(0), tuple(shape.map(int)), tuple(stride.map(int))]), 0x52];
}

/** A random pickle of allowed and disallowed opcodes, tensor views and opcode floods inside a dict. */
function randomPickle(rng: Rng): Uint8Array {
  const pieces: number[][] = [[0x80, 2], [0x7d], [0x28]];
  for (let i = below(rng, 40); i > 0; i--) pieces.push(rng() < 0.25 ? randomTensor(rng) : pick(rng, OPCODES));
  pieces.push([0x75, 0x2e]);
  const pickle = Uint8Array.from(pieces.flat());
  if (rng() > 0.1) return pickle;
  // A flood: one opcode (NONE, DUP, MEMOIZE, MARK, EMPTY_LIST) repeated up to 2M times, before STOP.
  const flood = new Uint8Array(below(rng, 2_000_000)).fill(pick(rng, [0x4e, 0x32, 0x94, 0x28, 0x5d]));
  return splice(pickle, 3, 0, flood);
}

/** `b` with `remove` bytes at `at` replaced by `insert`. */
function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array = new Uint8Array(0)): Uint8Array {
  const end = Math.min(b.length, at + remove);
  const out = new Uint8Array(at + insert.length + b.length - end);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(end), at + insert.length);
  return out;
}

/** Byte-level mutations: bit flips, interesting bytes and integers, truncation, deletion, duplication. */
function mutateBytes(rng: Rng, input: Uint8Array): Uint8Array {
  let b: Uint8Array = input.slice();
  for (let n = 1 + below(rng, 4); n > 0 && b.length > 0; n--) {
    const at = below(rng, b.length);
    const kind = below(rng, 6);
    if (kind === 0) b[at]! ^= 1 << below(rng, 8);
    else if (kind === 1) b[at] = pick(rng, INTERESTING) & 0xff;
    else if (kind === 2 && at + 4 <= b.length) new DataView(b.buffer).setUint32(at, pick(rng, INTERESTING), true);
    else if (kind === 3) b = b.slice(0, at);
    else if (kind === 4) b = splice(b, at, 1 + below(rng, 16));
    else {
      const from = below(rng, b.length);
      b = splice(b, at, 0, b.slice(from, from + 1 + below(rng, 64)));
    }
  }
  return b;
}

/** Replaces a number or quoted word in text with something hostile (a huge number, a nested list, ...). */
function mutateText(rng: Rng, text: string): string {
  const tokens = [...text.matchAll(/-?\d+(?:\.\d+)?|"[A-Za-z0-9_]+"|'[<A-Za-z0-9_]+'/g)];
  if (tokens.length === 0) return text;
  const t = pick(rng, tokens);
  return text.slice(0, t.index) + pick(rng, TEXT_NUMBERS) + text.slice(t.index! + t[0].length);
}

/** A safetensors file with its header text mutated and the length field made to agree, so the JSON is parsed. */
function mutateHeader(rng: Rng, file: Uint8Array): Uint8Array {
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  let header = new TextDecoder().decode(file.subarray(8, 8 + length));
  for (let n = 1 + below(rng, 3); n > 0; n--) header = mutateText(rng, header);
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + file.length - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(file.subarray(8 + length), 8 + h.length);
  return out;
}

/** A checkpoint with its data.pkl mutated (or replaced by a random pickle) and re-zipped with valid CRCs. */
function mutatePickle(rng: Rng, file: Uint8Array): Uint8Array {
  const files = unzipSync(file);
  const pkl = Object.keys(files).find((k) => k.endsWith('data.pkl'))!;
  files[pkl] = new Uint8Array(rng() < 0.3 ? randomPickle(rng) : mutateBytes(rng, files[pkl]!));
  return zipSync(files, { level: rng() < 0.5 ? 0 : 6 });
}

interface Seed {
  readonly name: string;
  readonly weight: number;
  readonly make: (rng: Rng) => Uint8Array;
  /** Which reader; `latent` reads through latentFromFile with a random one of its extensions. */
  readonly reader: 'weights' | 'npy' | 'latent';
}

function seeds(): Seed[] {
  const stored = seedCheckpoint(0);
  const deflated = seedCheckpoint(6);
  const safetensors = seedSafetensors();
  const npy = npyFile([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6]));
  const taef2 = new Uint8Array(readFileSync(TAEF2_PTH));
  const latentSt = encodeSafetensors({ latent: { dtype: 'F32', shape: [1, 4, 2, 2], data: Float32Array.from({ length: 16 }, (_, i) => i - 8) } }, { format: 'pt' });
  return [
    { name: 'pth bytes', weight: 20, reader: 'weights', make: (rng) => mutateBytes(rng, rng() < 0.5 ? stored : deflated) },
    { name: 'pth pickle', weight: 25, reader: 'weights', make: (rng) => mutatePickle(rng, rng() < 0.5 ? stored : deflated) },
    { name: 'safetensors bytes', weight: 15, reader: 'weights', make: (rng) => mutateBytes(rng, safetensors) },
    { name: 'safetensors header', weight: 20, reader: 'weights', make: (rng) => mutateHeader(rng, safetensors) },
    { name: 'npy', weight: 15, reader: 'npy', make: (rng) => (rng() < 0.5 ? mutateBytes(rng, npy) : new TextEncoder().encode(mutateText(rng, new TextDecoder('latin1').decode(npy)))) },
    { name: 'taef2 pth bytes', weight: 1, reader: 'weights', make: (rng) => mutateBytes(rng, taef2) },
    { name: 'latent safetensors', weight: 8, reader: 'latent', make: (rng) => (rng() < 0.5 ? mutateBytes(rng, latentSt) : mutateHeader(rng, latentSt)) },
    { name: 'f64 latent values', weight: 4, reader: 'latent', make: (rng) => f64Latent(rng) },
    { name: 'foreign file as weights', weight: 2, reader: 'weights', make: foreign },
    { name: 'foreign file as a latent', weight: 2, reader: 'latent', make: foreign },
  ];
}

/** A float64 latent of values near and past float32's range, as .npy or safetensors. */
function f64Latent(rng: Rng): Uint8Array {
  const values = Array.from({ length: 1 + below(rng, 6) }, () => pick(rng, F64_VALUES));
  return rng() < 0.5 ? npyFromHeader(`{'descr': '<f8', 'fortran_order': False, 'shape': (${values.length},), }`, f64(values)) : f64Safetensors(values);
}

/** An image, a web page, text or a plain zip, sometimes mutated. */
const foreign = (rng: Rng): Uint8Array => (rng() < 0.5 ? pick(rng, FOREIGN)() : mutateBytes(rng, pick(rng, FOREIGN)()));

/** A name the latent reader picks the format by: mostly right for the bytes, sometimes not. */
function latentName(rng: Rng, bytes: Uint8Array): string {
  const npy = bytes[0] === 0x93;
  return rng() < 0.8 ? (npy ? 'fuzz.npy' : pick(rng, ['fuzz.safetensors', 'fuzz.latent'])) : pick(rng, ['fuzz.npy', 'fuzz.safetensors', 'fuzz.latent']);
}

function run(seed: number, cases: number, seconds: number): FuzzSummary {
  const kinds = seeds();
  const totalWeight = kinds.reduce((n, k) => n + k.weight, 0);
  const outcomes: Record<string, number> = {};
  const untyped: FuzzSummary['untyped'] = [];
  let slowest = { case: -1, seed: '', ms: 0 };
  const deadline = performance.now() + seconds * 1000;
  let i = 0;
  for (; i < cases && performance.now() < deadline; i++) {
    process.stdout.write(`case ${i}\n`);
    const rng = uniform(seed * 1_000_003 + i);
    let w = rng() * totalWeight;
    const kind = kinds.find((k) => (w -= k.weight) < 0) ?? kinds[0]!;
    const made = kind.make(rng);
    // A Buffer view at an odd offset, as a file read from disk may be (its slice() is not a copy).
    const bytes = rng() < 0.5 ? made : Buffer.concat([Buffer.alloc(1), made]).subarray(1);
    const start = performance.now();
    let outcome = 'ok';
    try {
      if (kind.reader === 'npy') parseNpy(bytes, 'fuzz.npy');
      else if (kind.reader === 'latent') latentFromFile(bytes, latentName(rng, bytes));
      else parseWeights(bytes, 'fuzz');
    } catch (e) {
      if (isTaesdError(e)) outcome = e.code;
      else {
        outcome = 'untyped';
        untyped.push({ case: i, seed: kind.name, error: String(e) });
      }
    }
    const ms = performance.now() - start;
    if (ms > slowest.ms) slowest = { case: i, seed: kind.name, ms };
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return { cases: i, outcomes, untyped, slowest, peakRssMiB: peakRssMiB() };
}

const [seed, cases, seconds] = process.argv.slice(2).map(Number) as [number, number, number];
process.stdout.write(`${JSON.stringify(run(seed, cases, seconds))}\n`);
