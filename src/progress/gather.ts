import { fail } from '../errors.js';
import { encodeApng } from '../image/apng.js';
import { contactSheet, fitInto } from '../image/contactSheet.js';
import { downscale } from '../image/downscale.js';
import { decodeImage } from '../image/encode.js';
import { encodePng } from '../image/png.js';
import type { RgbaImage } from '../model/rgba.js';
import type { StepFile } from './stepFiles.js';

export interface GatherOptions {
  /** Shrink the returned images to this longer side, 1..16384 (default: as saved). */
  readonly maxSide?: number;
  /** Contact sheet: cells per row (default near-square) and cell side (default 256). */
  readonly columns?: number;
  readonly cellSide?: number;
  /** Animation: frame side 1..16384 (default 256; full-size frames make large files) and ms per frame (default 100). */
  readonly animationSide?: number;
  readonly delayMs?: number;
}

export interface Gathered {
  /** Step index of each image, ascending. */
  readonly steps: readonly number[];
  /** Every saved step, decoded, in step order (the node's "Get Intermediate Images" batch). */
  readonly images: readonly RgbaImage[];
  /** A PNG grid of all steps in order. */
  readonly contactSheetPng: Uint8Array;
  /** An animated PNG of the progression, looping, holding the last frame 1 s. */
  readonly apng: Uint8Array;
}

/**
 * Decodes a run's saved step files (from MemorySink.stepFiles(), readJobSteps() in Node, or
 * any list) into one batch in step order, plus a contact sheet and an APNG. Memory: every
 * decoded image at once (~1 MB per 512x512 step). Files of one job all have one size; if
 * they do not, animation frames are fitted into the first one's size.
 */
export async function gather(files: readonly StepFile[], options: GatherOptions = {}): Promise<Gathered> {
  if (files.length === 0) fail('BAD_OPTION', 'gather: no step files');
  const sorted = [...files].sort((a, b) => a.step - b.step);
  const images: RgbaImage[] = [];
  for (const f of sorted) {
    const image = await decodeImage(f.bytes).catch((e: unknown) => fail('IO', `gather: cannot decode ${f.name}`, { cause: e }));
    images.push(options.maxSide === undefined ? image : downscale(image, options.maxSide));
  }
  const side = options.animationSide ?? 256;
  const first = downscale(images[0]!, side);
  const frames = images.map((im) => fitInto(downscale(im, side), first.width, first.height));
  return {
    steps: sorted.map((f) => f.step),
    images,
    contactSheetPng: encodePng(
      contactSheet(images, {
        ...(options.columns === undefined ? {} : { columns: options.columns }),
        ...(options.cellSide === undefined ? {} : { cellSide: options.cellSide }),
      }),
    ),
    apng: encodeApng(frames, options.delayMs === undefined ? {} : { delayMs: options.delayMs }),
  };
}
