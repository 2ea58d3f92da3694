import { basename, extname, join, resolve } from 'node:path';
import type { Decoder } from '../decoder.js';
import { fail, isTaesdError } from '../errors.js';
import { encodeImage, type ImageFormat } from '../image/encode.js';
import type { LatentSpace, RawImage, RgbaImage } from '../model/decoder.js';
import { batchOf } from '../model/latent.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { writeFileAtomic } from './files.js';
import { readLatentFile } from './latentFile.js';
import { ProgressBar } from './progressBar.js';

export type OutputKind = ImageFormat | 'safetensors';

export function outputKind(path: string): OutputKind {
  const ext = extname(path).toLowerCase();
  if (ext === '.png') return 'png';
  if (ext === '.jpg' || ext === '.jpeg') return 'jpeg';
  if (ext === '.safetensors') return 'safetensors';
  fail('BAD_OPTION', `--out ${path}: the extension must be .png, .jpg, .jpeg or .safetensors`);
}

const EXTENSION: Record<OutputKind, string> = { png: '.png', jpeg: '.jpg', safetensors: '.safetensors' };

export interface DecodeFilesOptions {
  readonly inputs: readonly string[];
  /** One output file (one input), or a folder plus a kind for many. */
  readonly out?: string;
  readonly outDir?: string;
  readonly format?: OutputKind;
  readonly quality?: number;
  readonly latentSpace?: LatentSpace;
  readonly scale?: number;
}

/**
 * Decodes each latent file to its output; returns the failures (the others are written). A batch
 * `[N,C,h,w]` writes one `.safetensors` of `image` `[N,3,H,W]`, or with --out-dir one image per
 * item (`<name>_b<k>.png`); an image --out takes one latent. Throws BAD_OPTION, before decoding
 * anything, when two inputs would write the same output.
 */
export async function decodeFiles(decoder: Decoder, o: DecodeFilesOptions): Promise<string[]> {
  const targets = o.inputs.map((input) => {
    if (o.out !== undefined) return { input, out: o.out, kind: outputKind(o.out) };
    const kind = o.format ?? 'png';
    return { input, out: join(o.outDir!, basename(input, extname(input)) + EXTENSION[kind]), kind };
  });
  // Case-folded because macOS and Windows file systems would make X.png and x.png one file.
  const seen = new Map<string, string>();
  for (const t of targets) {
    const key = resolve(t.out).toLowerCase();
    const other = seen.get(key);
    if (other !== undefined) fail('BAD_OPTION', `${other} and ${t.input} would both be written to ${t.out}; decode them into different --out-dir folders`);
    seen.set(key, t.input);
  }
  const bar = targets.length > 1 ? new ProgressBar(targets.length) : null;
  const failures: string[] = [];
  for (const [i, t] of targets.entries()) {
    try {
      const { latent, space } = await readLatentFile(t.input);
      const latentSpace = o.latentSpace ?? space ?? undefined;
      const options = { ...(latentSpace && { latentSpace }), ...(o.scale !== undefined && { scale: o.scale }) };
      const batch = batchOf(latent);
      const started = performance.now();
      let written: string;
      if (t.kind === 'safetensors') {
        const raws = await decoder.decodeRawBatch(latent, options);
        const [{ width, height }] = raws as [RawImage];
        const data = new Float32Array(batch * 3 * height * width);
        raws.forEach((r, k) => data.set(r.data, k * r.data.length));
        const shape = batch === 1 ? [3, height, width] : [batch, 3, height, width];
        await writeFileAtomic(t.out, encodeSafetensors({ image: { dtype: 'F32', shape, data } }, { decoder: decoder.model.id, backend: decoder.backend }));
        written = `${t.out} (image ${shape.join('x')})`;
      } else {
        if (batch > 1 && o.out !== undefined) fail('BAD_OPTION', `${t.input} is a batch of ${batch}: write it with --out-dir (one image per item) or to a .safetensors --out`);
        const images = await decoder.decodeBatch(latent, options);
        for (const [k, image] of images.entries()) {
          const out = batch === 1 ? t.out : t.out.replace(/(\.[^./\\]+)$/, `_b${k}$1`);
          await writeFileAtomic(out, await encodeImage(image, { format: t.kind, ...(o.quality !== undefined && { quality: o.quality }) }));
        }
        const [{ width, height }] = images as [RgbaImage];
        written = `${batch === 1 ? t.out : `${batch} images beside ${t.out}, _b0 to _b${batch - 1}`} (${width}x${height})`;
      }
      // One input: say what was written (many: the progress bar says it).
      if (!bar) process.stderr.write(`taesd-web: wrote ${written} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
      bar?.update(i + 1, basename(t.out));
    } catch (e) {
      if (!isTaesdError(e)) throw e;
      failures.push(`${t.input}: [${e.code}] ${e.message}`);
      bar?.update(i + 1, `failed: ${basename(t.input)}`);
    }
  }
  return failures;
}
