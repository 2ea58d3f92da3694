// Runs inside the test page (loaded by test/browser/progress.spec.ts through Vite's /@fs/):
// the image and progress code in Chromium, with Chromium's own decoder (<img>) as the judge.
import { encodeApng, encodeJpeg, encodePng } from '../../src/image.js';
import type { RgbaImage } from '../../src/model/rgba.js';
import { gather, OpfsSink, pollProgress, runProgressJob, type PolledImage } from '../../src/progress.js';

function gradient(w: number, h: number, shift = 0): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([(x * 255) / w, (y * 255) / h, (128 + shift + 40 * Math.sin(x / 9 + y / 13)) & 255, 255], (y * w + x) * 4);
  return { width: w, height: h, data };
}

/** Decodes with Chromium's <img> and reads the pixels back through a canvas. */
async function viaImg(bytes: Uint8Array, type: string): Promise<RgbaImage> {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.drawImage(img, 0, 0);
    const d = ctx.getImageData(0, 0, canvas.width, canvas.height);
    return { width: d.width, height: d.height, data: d.data };
  } finally {
    URL.revokeObjectURL(url);
  }
}

function maxDiff(a: RgbaImage, b: RgbaImage): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i]! - b.data[i]!));
  return m;
}

async function time(f: () => unknown, n = 5): Promise<number> {
  await f();
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  return (performance.now() - t) / n;
}

export const progressPage = {
  /** Every encoder's output through <img>: PNG exact, JPEG close; timings at 512x512. */
  async encoders() {
    const im = gradient(512, 512);
    const png = encodePng(im), jpg = await encodeJpeg(im), moz = await encodeJpeg(im, { encoder: 'mozjpeg' });
    const frames = [0, 60, 120].map((s) => gradient(64, 48, s));
    return {
      pngDiff: maxDiff(await viaImg(png, 'image/png'), im),
      jpegDiff: maxDiff(await viaImg(jpg, 'image/jpeg'), im),
      mozDiff: maxDiff(await viaImg(moz, 'image/jpeg'), im),
      apngFirstFrameDiff: maxDiff(await viaImg(encodeApng(frames), 'image/png'), frames[0]!),
      sizes: { png: png.length, jpeg: jpg.length, mozjpeg: moz.length },
      ms: {
        png: await time(() => encodePng(im)),
        jpeg: await time(() => encodeJpeg(im)),
        mozjpeg: await time(() => encodeJpeg(im, { encoder: 'mozjpeg' }), 3),
      },
    };
  },

  /** A job in the Origin Private File System, read back, gathered, then rerun fresh. */
  async opfs() {
    const sink = new OpfsSink();
    const frames = [0, 1, 2].map((s) => gradient(40, 30, s * 50));
    await runProgressJob(frames, { sink, jobId: 'opfs-job', totalSteps: 3, format: 'png' });
    const record = JSON.parse(new TextDecoder().decode((await sink.read('progress.json'))!)) as Record<string, unknown>;
    const files = await sink.stepFiles();
    const g = await gather(files, { cellSide: 20 });
    const finalDiff = maxDiff(await viaImg((await sink.read('step_final.png'))!, 'image/png'), frames[2]!);
    await runProgressJob([frames[0]!], { sink, jobId: 'opfs-job', totalSteps: 1 });
    return {
      record,
      names: files.map((f) => f.name),
      gatheredDiffs: g.images.map((im, i) => maxDiff(im, frames[i]!)),
      finalDiff,
      afterRerun: (await sink.stepFiles()).map((f) => f.name),
    };
  },

  /** pollProgress in the page; every image it reports is shown in an <img>. */
  async poll(url: string) {
    const steps: number[] = [];
    const shown: { step: number; width: number }[] = [];
    const images: PolledImage[] = [];
    const last = await pollProgress(url, {
      intervalMs: 50,
      signal: AbortSignal.timeout(60_000),
      onProgress: (r) => steps.push(r.current_step),
      onImage: (im) => images.push(im),
    });
    for (const im of images) {
      const img = new Image();
      img.crossOrigin = 'anonymous';
      img.src = im.url;
      await img.decode();
      shown.push({ step: im.step, width: img.naturalWidth });
    }
    return { last, steps, shown, urls: images.map((i) => i.url) };
  },

  /** The ComfyUI node README's loop, with a plain fetch: does it ever see `completed`? */
  async readmeLoop(url: string, maxPolls: number) {
    for (let i = 0; i < maxPolls; i++) {
      const data = (await (await fetch(url)).json()) as { status: string };
      if (data.status === 'completed') return { completed: true, polls: i + 1 };
      await new Promise((r) => setTimeout(r, 50));
    }
    return { completed: false, polls: maxPolls };
  },
};

declare global {
  interface Window {
    progressPage: typeof progressPage;
  }
}
window.progressPage = progressPage;
