// Downloads: the step on show as PNG or JPEG, the whole run as a contact sheet or an animated PNG.
import { contactSheet, encodeApng, encodeJpeg, encodePng } from 'taesd-web';
import type { Frame } from './filmstrip.js';
import { download } from './ui.js';

/** A file-name-safe form of a step's name ("step 3" -> "step-3"). */
const slug = (name: string): string => name.replace(/\.[a-z]+$/i, '').replace(/[^a-z0-9_-]+/gi, '-').replace(/^-|-$/g, '') || 'step';

export async function downloadStep(frame: Frame, format: 'png' | 'jpeg'): Promise<void> {
  const name = `taesd-${slug(frame.name)}`;
  if (format === 'png') download(encodePng(frame.image), `${name}.png`, 'image/png');
  else download(await encodeJpeg(frame.image, { quality: 90 }), `${name}.jpeg`, 'image/jpeg');
}

/** All frames in order on one sheet, each in a cell of up to 256 px. */
export function downloadSheet(frames: readonly Frame[]): void {
  const side = Math.max(...frames.map((f) => Math.max(f.image.width, f.image.height)));
  const sheet = contactSheet(frames.map((f) => f.image), { cellSide: Math.min(256, side) });
  download(encodePng(sheet), 'taesd-run-sheet.png', 'image/png');
}

/** All frames as an animated PNG, a quarter second each (every frame is the run's size). */
export function downloadApng(frames: readonly Frame[]): void {
  download(encodeApng(frames.map((f) => f.image), { delayMs: 250 }), 'taesd-run.apng', 'image/apng');
}
