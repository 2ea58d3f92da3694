import { basename } from 'node:path';
import type { Decoder } from '../decoder.js';
import { isTaesdError } from '../errors.js';
import { encodeImage } from '../image/encode.js';
import type { DecodeOptions, LatentSpace } from '../model/decoderTypes.js';
import { batchOf } from '../model/latent.js';
import type { RawImage, RgbaImage } from '../model/rgba.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { writeFileAtomic } from './files.js';
import { readLatentFile } from './latentFile.js';
import type { DecodeTarget } from './outputs.js';
import { ProgressBar } from './progressBar.js';
import { withSpinner } from './spinner.js';

export interface DecodeFilesOptions {
  readonly quality?: number;
  readonly latentSpace?: LatentSpace;
  readonly scale?: number;
}

/** Decodes one target and writes its file(s); returns what was written, for the log line. */
async function decodeTarget(decoder: Decoder, t: DecodeTarget, o: DecodeFilesOptions): Promise<string> {
  const { latent, space } = await readLatentFile(t.input);
  const latentSpace = o.latentSpace ?? space ?? undefined;
  const options: DecodeOptions = { ...(latentSpace && { latentSpace }), ...(o.scale !== undefined && { scale: o.scale }) };
  const batch = batchOf(latent);
  if (t.kind === 'safetensors') {
    const raws = await decoder.decodeRawBatch(latent, options);
    const [{ width, height }] = raws as [RawImage];
    const data = new Float32Array(batch * 3 * height * width);
    raws.forEach((r, k) => data.set(r.data, k * r.data.length));
    const shape = batch === 1 ? [3, height, width] : [batch, 3, height, width];
    await writeFileAtomic(t.out, encodeSafetensors({ image: { dtype: 'F32', shape, data } }, { decoder: decoder.model.id, backend: decoder.backend }));
    return `${t.out} (image ${shape.join('x')})`;
  }
  const images = await decoder.decodeBatch(latent, options);
  for (const [k, image] of images.entries()) {
    await writeFileAtomic(t.files[k]!, await encodeImage(image, { format: t.kind, ...(o.quality !== undefined && { quality: o.quality }) }));
  }
  const [{ width, height }] = images as [RgbaImage];
  return `${t.files.join(', ')} (${width}x${height})`;
}

/**
 * Decodes each planned target (see planDecode) to its file(s); returns the failures (the others
 * are written). A batch `[N,C,h,w]` writes one `.safetensors` of `image` `[N,3,H,W]`, or one
 * image per item. One target: a spinner on a terminal while it decodes, then a line saying
 * what was written; several: a progress bar.
 */
export async function decodeFiles(decoder: Decoder, targets: readonly DecodeTarget[], o: DecodeFilesOptions): Promise<string[]> {
  const bar = targets.length > 1 ? new ProgressBar(targets.length) : null;
  const failures: string[] = [];
  for (const [i, t] of targets.entries()) {
    try {
      const started = performance.now();
      const written = bar ? await decodeTarget(decoder, t, o) : await withSpinner(`decoding ${basename(t.input)} on ${decoder.backend}`, decodeTarget(decoder, t, o));
      if (!bar) process.stderr.write(`taesd-web: wrote ${written} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
      bar?.update(i + 1, t.files.map((f) => basename(f)).join(', '));
    } catch (e) {
      if (!isTaesdError(e)) throw e;
      failures.push(`${t.input}: [${e.code}] ${e.message}`);
      bar?.update(i + 1, `failed: ${basename(t.input)}`);
    }
  }
  return failures;
}
