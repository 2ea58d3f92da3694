// Where `decode` writes, decided before any decode: every file name a batch expands to, checked
// against the others and against the inputs, so no output overwrites an input or another output.
import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { isTaesdError } from '../errors.js';
import { batchOf } from '../model/latent.js';
import { readLatentFile } from './latentFile.js';
import { UsageError } from './options.js';

export type OutputKind = 'png' | 'jpeg' | 'safetensors';

const EXTENSION: Record<OutputKind, string> = { png: '.png', jpeg: '.jpg', safetensors: '.safetensors' };

/** The kind of file `--out <path>` asks for, by its extension. */
export function outputKind(path: string): OutputKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.safetensors') return 'safetensors';
  throw new UsageError(`--out ${path}: the extension must be .png, .jpg, .jpeg or .safetensors`);
}

/** One input and the file(s) it becomes: one, or for a batch written as images one per item. */
export interface DecodeTarget {
  readonly input: string;
  readonly kind: OutputKind;
  /** `--out`, or `<out-dir>/<name>.<ext>` (what a batch's `_b<k>` names are made from). */
  readonly out: string;
  readonly files: readonly string[];
}

export interface DecodePlan {
  readonly targets: readonly DecodeTarget[];
  /** Inputs that cannot be read, with why (`<input>: [CODE] message`); they are skipped. */
  readonly failures: readonly string[];
}

/** `a.png` -> `a_b1.png`: item k of a batch. */
export function batchItemName(path: string, k: number): string {
  return path.replace(/(\.[^./\\]+)$/, `_b${k}$1`);
}

/** A file's identity: its real path, and device + inode (so a hard link is the same file). */
async function identity(path: string): Promise<{ real: string; id: string | null }> {
  try {
    const [real, s] = await Promise.all([realpath(path), stat(path)]);
    return { real, id: `${s.dev}:${s.ino}` };
  } catch {
    // Not there (yet): its folder's real path, when that exists, plus its name.
    const dir = await realpath(dirname(resolve(path))).catch(() => dirname(resolve(path)));
    return { real: join(dir, basename(path)), id: null };
  }
}

/**
 * Reads each input once to learn its batch size, names every file the decode will write, and
 * refuses (UsageError, nothing written) two inputs writing one file (case-folded: macOS and
 * Windows would make X.png and x.png one file) or an output that is an input (same real path,
 * or same device and inode: a hard link). An input that cannot be read, or a batch sent to one
 * image, becomes a failure; the others still decode.
 */
export async function planDecode(inputs: readonly string[], o: { out?: string; outDir?: string; kind: OutputKind }): Promise<DecodePlan> {
  const option = o.out !== undefined ? '--out' : '--out-dir';
  if (o.outDir !== undefined && !(await stat(o.outDir).then((s) => s.isDirectory(), () => true))) throw new UsageError(`--out-dir ${o.outDir} is a file, not a folder`);
  const targets: DecodeTarget[] = [];
  const failures: string[] = [];
  for (const input of inputs) {
    const out = o.out ?? join(o.outDir!, basename(input, extname(input)) + EXTENSION[o.kind]);
    let batch: number;
    try {
      batch = batchOf((await readLatentFile(input)).latent);
    } catch (e) {
      if (!isTaesdError(e)) throw e;
      failures.push(`${input}: [${e.code}] ${e.message}`);
      continue;
    }
    if (batch > 1 && o.kind !== 'safetensors' && o.out !== undefined) {
      failures.push(`${input}: [BAD_OPTION] a batch of ${batch}: write it with --out-dir (one image per item) or to a .safetensors --out`);
      continue;
    }
    const files = batch > 1 && o.kind !== 'safetensors' ? Array.from({ length: batch }, (_, k) => batchItemName(out, k)) : [out];
    targets.push({ input, kind: o.kind, out, files });
  }
  const writers = new Map<string, string>();
  for (const t of targets) {
    for (const file of t.files) {
      const key = resolve(file).toLowerCase();
      const other = writers.get(key);
      if (other !== undefined) throw new UsageError(`${option}: ${other} and ${t.input} would both be written to ${file}; decode them into different --out-dir folders`);
      writers.set(key, t.input);
    }
  }
  await refuseInputs(targets.flatMap((t) => t.files), inputs, option);
  return { targets, failures };
}

/**
 * Refuses (UsageError naming `option`) an output that is one of the inputs: the same real path
 * (through symlinks), or the same device and inode (a hard link).
 */
export async function refuseInputs(outputs: readonly string[], inputs: readonly string[], option: string): Promise<void> {
  const sources = await Promise.all(inputs.map(async (input) => ({ input, ...(await identity(input)) })));
  for (const file of outputs) {
    const target = await identity(file);
    const hit = sources.find((s) => s.real === target.real || (s.id !== null && s.id === target.id));
    if (hit) throw new UsageError(`${option}: ${file} is the input ${hit.input}${hit.real === target.real ? '' : ' (a hard link to it)'}; writing it would destroy the input`);
  }
}
