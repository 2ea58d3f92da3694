import { describe, expect, test } from 'vitest';
import { isTaesdError } from '../src/errors.js';
import { encodeApng } from '../src/image/apng.js';
import { toBase64, toDataUrl } from '../src/image/base64.js';
import { contactSheet } from '../src/image/contactSheet.js';
import { downscale, fitSize } from '../src/image/downscale.js';
import { decodeImage, encodeImage, sniffFormat } from '../src/image/encode.js';
import { decodeJpeg, encodeJpeg } from '../src/image/jpeg.js';
import { encodePng } from '../src/image/png.js';
import { decodePng } from '../src/image/pngDecode.js';
import { gather } from '../src/progress/gather.js';
import { pngBomb } from './support/hostileFiles.js';
import type { RgbaImage } from '../src/model/rgba.js';
import { jpegjsDecode, mean, noiseImage, pngjsDecode, psnr, syntheticImage, upngFrames } from './support/progressImages.js';


function expectCode(f: () => unknown, code: string) {
  try {
    f();
  } catch (e) {
    expect(isTaesdError(e), String(e)).toBe(true);
    expect((e as { code: string }).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('encodePng', () => {
  const cases: [string, RgbaImage][] = [
    ['1x1 opaque', syntheticImage(1, 1, 3)],
    ['7x5 noise with alpha', noiseImage(7, 5, 2, true)],
    ['64x48 noise opaque', noiseImage(64, 48, 4, false)],
    ['97x61 smooth with alpha', syntheticImage(97, 61, 5, true)],
    ['128x128 smooth', syntheticImage(128, 128, 6)],
  ];
  test.each(cases)('%s round-trips losslessly through pngjs', (_, image) => {
    const png = encodePng(image);
    const back = pngjsDecode(png);
    expect([back.width, back.height]).toEqual([image.width, image.height]);
    expect(Buffer.from(back.data).equals(Buffer.from(image.data))).toBe(true);
    expect(Buffer.from(decodePng(png).data).equals(Buffer.from(image.data))).toBe(true);
  });

  test('writes RGB (color type 2) for opaque images, RGBA (6) otherwise, and honours alpha/level', () => {
    expect(encodePng(syntheticImage(8, 8, 1))[25]).toBe(2);
    expect(encodePng(syntheticImage(8, 8, 1, true))[25]).toBe(6);
    expect(encodePng(syntheticImage(8, 8, 1), { alpha: true })[25]).toBe(6);
    const im = syntheticImage(64, 64, 1);
    for (const level of [0, 1, 9]) expect(Buffer.from(pngjsDecode(encodePng(im, { level })).data).equals(Buffer.from(im.data))).toBe(true);
    expect(encodePng(im, { level: 0 }).length).toBeGreaterThan(64 * 64 * 3);
  });

  test('rejects malformed images and options', () => {
    expectCode(() => encodePng({ width: 2, height: 2, data: new Uint8ClampedArray(15) }), 'BAD_OPTION');
    expectCode(() => encodePng({ width: 0, height: 2, data: new Uint8ClampedArray(0) }), 'BAD_OPTION');
    expectCode(() => encodePng(syntheticImage(2, 2), { level: 10 }), 'BAD_OPTION');
  });

  test('decodePng rejects corrupt files with IO', () => {
    const png = encodePng(syntheticImage(16, 16));
    const bad = png.slice();
    bad[40] ^= 0xff;
    expectCode(() => decodePng(bad), 'IO');
    expectCode(() => decodePng(png.subarray(0, png.length - 20)), 'IO');
    expectCode(() => decodePng(new Uint8Array(10)), 'IO');
  });
});

describe('PNG bombs (issue #12, item 13; timed in a process of their own in hostile-loaders.test.ts)', () => {
  // TOO_LARGE comes from the header's pixel cap and from the inflater's size cap, each before the memory is spent.
  test('16384x16384 (1 GiB of pixels) is refused at its header', () => {
    expect(() => decodePng(pngBomb(16384, 16384, 1000))).toThrow(expect.objectContaining({ code: 'IO', reason: 'TOO_LARGE', message: expect.stringContaining('16384x16384') }));
  });

  test('image data that inflates past its size stops after one piece', async () => {
    const png = pngBomb(64, 64, 64 << 20); // 64 KB that would inflate to 64 MiB
    expect(() => decodePng(png)).toThrow(expect.objectContaining({ code: 'IO', reason: 'TOO_LARGE', message: expect.stringContaining('16448') }));
    await expect(gather([{ step: 0, name: 'step_0000.png', bytes: png }])).rejects.toMatchObject({ code: 'IO' });
  });
});

describe('encodeJpeg (MozJPEG wasm in Node)', () => {
  test('decodes with jpeg-js, keeps the size, and looks like the input', async () => {
    for (const [w, h] of [[1, 1], [17, 9], [256, 192]] as const) {
      const image = syntheticImage(w, h, w);
      const jpg = await encodeJpeg(image);
      expect(sniffFormat(jpg)).toBe('jpeg');
      const back = jpegjsDecode(jpg);
      expect([back.width, back.height]).toEqual([w, h]);
      if (w > 16) expect(psnr(image, back)).toBeGreaterThan(30);
    }
  });

  test('quality trades size for fidelity; default is 85', async () => {
    const image = syntheticImage(256, 256, 9);
    const sizes = [];
    for (const quality of [30, 85, 98]) sizes.push((await encodeJpeg(image, { quality })).length);
    expect(sizes[0]).toBeLessThan(sizes[1]!);
    expect(sizes[1]).toBeLessThan(sizes[2]!);
    expect((await encodeJpeg(image)).length).toBe(sizes[1]);
    await expect(encodeJpeg(image, { quality: 0 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(encodeJpeg(image, { quality: 85.5 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(encodeJpeg(image, { encoder: 'platform' })).rejects.toMatchObject({ code: 'IO' });
  });

  test('decodeJpeg agrees with jpeg-js within a level or two', async () => {
    const jpg = await encodeJpeg(syntheticImage(64, 64, 2));
    const ours = await decodeJpeg(jpg), theirs = jpegjsDecode(jpg);
    expect(psnr(ours, theirs)).toBeGreaterThan(40);
    await expect(decodeImage(jpg.subarray(0, 2))).rejects.toMatchObject({ code: 'IO' });
  });

  test('encodeImage dispatches on format', async () => {
    const image = syntheticImage(32, 32, 1);
    expect(sniffFormat(await encodeImage(image, { format: 'png' }))).toBe('png');
    expect(sniffFormat(await encodeImage(image, { format: 'jpeg', quality: 50 }))).toBe('jpeg');
    await expect(encodeImage(image, { format: 'gif' as 'png' })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

test('toBase64 matches Node for every length mod 3, raw (no data: prefix)', () => {
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'));
  }
  const big = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 255);
  expect(toBase64(big)).toBe(Buffer.from(big).toString('base64'));
  expect(toDataUrl(Uint8Array.of(1, 2, 3), 'image/png')).toBe('data:image/png;base64,AQID');
});

describe('downscale (area average)', () => {
  test('averages each covered block exactly (4x4 -> 2x2)', () => {
    const data = new Uint8ClampedArray(4 * 4 * 4);
    for (let i = 0; i < 16; i++) data.set([i * 10, 0, 0, 255], i * 4);
    const out = downscale({ width: 4, height: 4, data }, 2);
    expect([out.width, out.height]).toEqual([2, 2]);
    // top-left block holds pixels 0,1,4,5 -> (0+10+40+50)/4 = 25
    expect([out.data[0], out.data[4], out.data[8], out.data[12]]).toEqual([25, 45, 105, 125]);
  });

  test('a 1-pixel checkerboard becomes mid-grey (nearest-neighbour would keep black or white)', () => {
    const data = new Uint8ClampedArray(64 * 64 * 4);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data.fill((x + y) % 2 ? 255 : 0, (y * 64 + x) * 4, (y * 64 + x) * 4 + 3).fill(255, (y * 64 + x) * 4 + 3, (y * 64 + x) * 4 + 4);
    const out = downscale({ width: 64, height: 64, data }, 24); // non-integer ratio 8/3
    for (let i = 0; i < out.data.length; i += 4) expect(Math.abs(out.data[i]! - 127.5)).toBeLessThanOrEqual(16);
    expect(Math.abs(mean(out, 0) - 127.5)).toBeLessThan(1);
  });

  test('keeps the mean, the aspect ratio, and never enlarges', () => {
    const image = syntheticImage(300, 200, 3);
    const out = downscale(image, 128);
    expect([out.width, out.height]).toEqual([128, 85]);
    for (let c = 0; c < 3; c++) expect(Math.abs(mean(out, c) - mean(image, c))).toBeLessThan(0.6);
    expect(downscale(image, 300)).toBe(image);
    expect(fitSize(1, 1000, 10)).toEqual({ width: 1, height: 10 });
    expectCode(() => downscale(image, 0), 'BAD_OPTION');
  });

  test('averages colour premultiplied, so transparent pixels do not darken', () => {
    const data = Uint8ClampedArray.from([255, 0, 0, 255, 0, 0, 0, 0]);
    const out = downscale({ width: 2, height: 1, data }, 1);
    expect(Array.from(out.data)).toEqual([255, 0, 0, 128]);
  });
});

test('encodeApng: upng-js sees every frame exactly, with its delay; pngjs sees frame 0', () => {
  const frames = [0, 1, 2, 3].map((s) => syntheticImage(40, 30, s));
  const apng = encodeApng(frames, { delayMs: 120, holdLastMs: 500 });
  const got = upngFrames(apng);
  expect([got.width, got.height, got.frames.length]).toEqual([40, 30, 4]);
  got.frames.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(frames[i]!.data))).toBe(true));
  expect(got.delays).toEqual([120, 120, 120, 620]);
  expect(Buffer.from(pngjsDecode(apng).data).equals(Buffer.from(frames[0]!.data))).toBe(true);
  expectCode(() => encodeApng([syntheticImage(4, 4), syntheticImage(5, 4)]), 'BAD_OPTION');
  expectCode(() => encodeApng([]), 'BAD_OPTION');
});

test('contactSheet lays cells out in order, each fitted and centred', () => {
  const solid = (v: number, w: number, h: number): RgbaImage => ({ width: w, height: h, data: new Uint8ClampedArray(w * h * 4).fill(v) });
  const sheet = contactSheet([solid(50, 20, 20), solid(100, 40, 20), solid(150, 10, 10)], { cellSide: 10, gap: 2, background: [0, 0, 0, 255] });
  expect([sheet.width, sheet.height]).toEqual([2 + 2 * 12, 2 + 2 * 12]); // 2 columns, 2 rows
  const px = (x: number, y: number) => sheet.data[(y * sheet.width + x) * 4]!;
  expect(px(2, 2)).toBe(50); // cell 0
  expect(px(14, 6)).toBe(100); // cell 1, letterboxed to 10x5: rows 4..8
  expect(px(14, 3)).toBe(0);
  expect(px(2, 14)).toBe(150); // cell 2, second row
  expect(px(0, 0)).toBe(0);
  expectCode(() => contactSheet([]), 'BAD_OPTION');
});

test('encode times, 512x512 (closing note)', async () => {
  const image = syntheticImage(512, 512, 42);
  const time = async (f: () => unknown) => {
    await f();
    const t = performance.now();
    for (let i = 0; i < 5; i++) await f();
    return (performance.now() - t) / 5;
  };
  const png = encodePng(image), jpg = await encodeJpeg(image);
  const tPng = await time(() => encodePng(image));
  const tJpg = await time(() => encodeJpeg(image));
  console.log(`512x512: PNG ${tPng.toFixed(1)} ms, ${png.length} B; JPEG q85 ${tJpg.toFixed(1)} ms, ${jpg.length} B`);
  expect(Buffer.from(pngjsDecode(png).data).equals(Buffer.from(image.data))).toBe(true);
  expect(psnr(image, jpegjsDecode(jpg))).toBeGreaterThan(30);
});
