import { fail } from '../errors.js';
import type { RgbaImage } from '../model/rgba.js';
import { downscale } from './downscale.js';
import { blit, checkImage, createImage, MAX_IMAGE_SIDE } from './image.js';

export type Rgba = readonly [number, number, number, number];

export interface ContactSheetOptions {
  /** Cells per row, 1..1024 (default: ceil(sqrt(n)), a near-square sheet). */
  readonly columns?: number;
  /** Each image is shrunk (area average, never enlarged) to fit a square cell of this side, 1..4096 (default 256). */
  readonly cellSide?: number;
  /** A non-square cell instead (e.g. a video frame's size, so a frontend can cut frames out), 1..16384 each. */
  readonly cellWidth?: number;
  readonly cellHeight?: number;
  /** Pixels between cells and around the edge, 0..256 (default 4). */
  readonly gap?: number;
  /** Background RGBA (default opaque black). */
  readonly background?: Rgba;
}

/** `image` shrunk to fit `w` x `h` and centred on a `w` x `h` canvas of `background`. */
export function fitInto(image: RgbaImage, w: number, h: number, background: Rgba = [0, 0, 0, 255]): RgbaImage {
  if (image.width === w && image.height === h) return image;
  const s = Math.min(w / image.width, h / image.height, 1);
  const small = s < 1 ? downscale(image, Math.max(1, Math.round(Math.max(image.width, image.height) * s))) : image;
  const out = createImage(w, h, background);
  blit(out, small, Math.floor((w - small.width) / 2), Math.floor((h - small.height) / 2));
  return out;
}

function int(name: string, v: number, min: number, max: number): number {
  if (!Number.isInteger(v) || v < min || v > max) fail('BAD_OPTION', `contact sheet ${name} must be an integer ${min}..${max}, got ${v}`);
  return v;
}

/**
 * Lays images out in a grid, in order, left to right then top to bottom, each shrunk to fit
 * its cell and centred. Returns the sheet as an image (encode it with encodePng). The sheet's
 * side may not exceed 16384 (BAD_OPTION: use fewer columns or a smaller cellSide).
 */
export function contactSheet(images: readonly RgbaImage[], options: ContactSheetOptions = {}): RgbaImage {
  if (images.length === 0) fail('BAD_OPTION', 'contact sheet: no images');
  images.forEach((im, i) => checkImage(im, `contact sheet image ${i}`));
  const columns = int('columns', options.columns ?? Math.ceil(Math.sqrt(images.length)), 1, 1024);
  const side = int('cellSide', options.cellSide ?? 256, 1, 4096);
  const cellW = int('cellWidth', options.cellWidth ?? side, 1, MAX_IMAGE_SIDE), cellH = int('cellHeight', options.cellHeight ?? side, 1, MAX_IMAGE_SIDE);
  const gap = int('gap', options.gap ?? 4, 0, 256);
  const background = options.background ?? [0, 0, 0, 255];
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const width = gap + cols * (cellW + gap), height = gap + rows * (cellH + gap);
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE)
    fail('BAD_OPTION', `contact sheet would be ${width}x${height}; at most ${MAX_IMAGE_SIDE} per side`);
  const sheet = createImage(width, height, background);
  images.forEach((im, i) => {
    const x = gap + (i % cols) * (cellW + gap), y = gap + Math.floor(i / cols) * (cellH + gap);
    blit(sheet, fitInto(im, cellW, cellH, background), x, y);
  });
  return sheet;
}
