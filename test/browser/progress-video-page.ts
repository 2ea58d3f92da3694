// Loaded into test.html by progress-video.spec.ts: pollProgress in Chromium following a video job,
// each image shown as Chromium shows it (an <img> for the APNG; a sheet cut into frames on a canvas).
import { pollProgress, type PolledImage } from '../../src/progress/poll.js';

async function load(url: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.crossOrigin = 'anonymous';
  img.src = url;
  await img.decode();
  return img;
}

const progressVideoPage = {
  /** Polls to the end; per image: its layout, the <img>'s size, and for a sheet each cut frame's mean red. */
  async pollVideo(url: string) {
    const images: PolledImage[] = [];
    const last = await pollProgress(url, { intervalMs: 50, signal: AbortSignal.timeout(60_000), onImage: (im) => images.push(im) });
    const shown = [];
    for (const im of images) {
      const img = await load(im.url);
      const v = im.video;
      const cells: number[] = [];
      if (v?.layout === 'sheet') {
        const canvas = new OffscreenCanvas(v.frame_width, v.frame_height);
        const ctx = canvas.getContext('2d')!;
        for (let i = 0; i < v.frame_count; i++) {
          ctx.drawImage(img, (i % v.columns) * v.frame_width, Math.floor(i / v.columns) * v.frame_height, v.frame_width, v.frame_height, 0, 0, v.frame_width, v.frame_height);
          const d = ctx.getImageData(0, 0, v.frame_width, v.frame_height).data;
          let red = 0;
          for (let p = 0; p < d.length; p += 4) red += d[p]!;
          cells.push(red / (d.length / 4));
        }
      }
      shown.push({ step: im.step, name: im.name, layout: v?.layout ?? null, frames: v?.frame_count ?? null, fps: v?.fps ?? null, width: img.naturalWidth, height: img.naturalHeight, frameWidth: v?.frame_width ?? null, cells });
    }
    return { status: last.status, shown };
  },
};

declare global {
  interface Window {
    progressVideoPage: typeof progressVideoPage;
  }
}
window.progressVideoPage = progressVideoPage;
