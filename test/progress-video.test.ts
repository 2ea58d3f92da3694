// Video steps through the ProgressWriter: golden TAEHV frames (../shared/golden) written as an
// animated PNG (decoded back frame by frame with upng-js) or a JPEG contact sheet, progress.json's
// `video` / `step_videos`, readJobSteps and gather on the folder, and pollProgress over real HTTP.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLinearVideoDecoder } from '../src/linearVideo.js';
import type { RgbaImage } from '../src/model/rgba.js';
import { FileSink } from '../src/progress/fileSink.js';
import { gather } from '../src/progress/gather.js';
import { MemorySink } from '../src/progress/memorySink.js';
import { pollProgress, type PolledImage } from '../src/progress/poll.js';
import { readJobSteps } from '../src/progress/readJob.js';
import type { ProgressRecord, VideoLayout } from '../src/progress/record.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { cheapFirstPreviewer } from '../src/videoPreview.js';
import { jpegjsDecode, psnr, upngFrames } from './support/progressImages.js';
import { serveFolder } from './support/progressServer.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { loadVideoGolden, type VideoGolden } from './support/videoGolden.js';
import { goldenFrames } from './support/goldenFrames.js';


/** Cell `i` of a sheet laid out as `layout` says. */
function cell(sheet: RgbaImage, layout: VideoLayout, i: number): RgbaImage {
  const { frame_width: w, frame_height: h, columns } = layout;
  const data = new Uint8ClampedArray(w * h * 4);
  const x0 = (i % columns) * w, y0 = Math.floor(i / columns) * h;
  for (let y = 0; y < h; y++) data.set(sheet.data.subarray(((y0 + y) * sheet.width + x0) * 4, ((y0 + y) * sheet.width + x0 + w) * 4), y * w * 4);
  return { width: w, height: h, data };
}

async function run(writer: ProgressWriter, steps: Parameters<ProgressWriter['push']>[0][]): Promise<void> {
  await writer.start();
  for (const s of steps) {
    writer.push(s);
    await writer.flush(); // every step saved: none superseded while the previous one is in flight
  }
  await writer.finish();
}

describe.skipIf(!HAS_SHARED)('video steps in the ProgressWriter', () => {
  const g = HAS_SHARED ? loadVideoGolden('taew2_1_rand_t3') : (null as unknown as VideoGolden);
  const frames = HAS_SHARED ? goldenFrames(g) : [];

  it('png: an animated PNG of every frame at 1/fps s each, decoded back frame by frame; latest, final and base64 the same bytes', async () => {
    const sink = new MemorySink();
    await run(new ProgressWriter({ sink, jobId: 'v', totalSteps: 2, format: 'png', fps: 16, includeBase64: true }), [{ frames }, { frames: frames.slice(0, 5) }]);
    const bytes = sink.get('step_0000.png')!;
    const apng = upngFrames(bytes);
    expect(apng.frames.length).toBe(9);
    expect([apng.width, apng.height]).toEqual([48, 32]);
    expect(apng.delays).toEqual(Array(9).fill(63)); // round(1000 / 16)
    apng.frames.forEach((f, t) => expect(Buffer.from(f).equals(Buffer.from(frames[t]!.data))).toBe(true));
    const record = sink.progress()!;
    expect(record.video).toEqual({ layout: 'animation', frame_count: 5, fps: 16, frame_width: 48, frame_height: 32, columns: 1, rows: 1, frame_stride: 1, source_frames: 5, made_with: null });
    expect(record.step_videos!.map((v) => [v.step, v.frame_count])).toEqual([[0, 9], [1, 5]]);
    expect(Buffer.from(sink.get('latest.png')!).equals(Buffer.from(sink.get('step_0001.png')!))).toBe(true);
    expect(Buffer.from(sink.get('step_final.png')!).equals(Buffer.from(sink.get('step_0001.png')!))).toBe(true);
    expect(Buffer.from(record.image_base64!, 'base64').equals(Buffer.from(sink.get('step_final.png')!))).toBe(true);
  });

  it('jpeg: a contact sheet of every k-th frame, cells the frame size, the layout to cut it', async () => {
    const sink = new MemorySink();
    await run(new ProgressWriter({ sink, jobId: 'v', totalSteps: 1, format: 'jpeg', quality: 95, fps: 16, sheetFrames: 4 }), [{ frames }]);
    const layout = sink.progress()!.video!;
    // 9 frames, at most 4 cells: every 3rd (0, 3, 6) on a 2 x 2 grid.
    expect(layout).toEqual({ layout: 'sheet', frame_count: 3, fps: 16 / 3, frame_width: 48, frame_height: 32, columns: 2, rows: 2, frame_stride: 3, source_frames: 9, made_with: null });
    const sheet = jpegjsDecode(sink.get('step_0000.jpeg')!);
    expect([sheet.width, sheet.height]).toEqual([96, 64]);
    for (let i = 0; i < 3; i++) expect(psnr(cell(sheet, layout, i), frames[3 * i]!)).toBeGreaterThan(30);
  });

  it('video latents through the cheap-first previewer: linear (one frame per latent frame, 4x the stride), recorded per step', async () => {
    const sink = new MemorySink();
    const videoPreviewer = cheapFirstPreviewer({ budgetMs: 1000, linear: createLinearVideoDecoder({ model: 'taew2_1', upscale: 8 }) });
    const video = { data: g.latent.data, shape: g.latent.shape };
    await run(new ProgressWriter({ sink, jobId: 'v', totalSteps: 2, format: 'png', fps: 16, videoPreviewer }), [{ video }, { video }]);
    const record = sink.progress()!;
    expect(record.video).toMatchObject({ layout: 'animation', frame_count: 3, fps: 4, frame_width: 48, frame_height: 32, frame_stride: 4, source_frames: 12 });
    expect(record.step_videos!.map((v) => v.made_with!.decoder)).toEqual(['linear', 'linear']);
    expect(upngFrames(sink.get('latest.png')!).delays).toEqual([250, 250, 250]);
  });

  it('refuses bad video steps with BAD_OPTION before they are queued', async () => {
    const writer = new ProgressWriter({ sink: new MemorySink(), jobId: 'v', totalSteps: 5 });
    await writer.start();
    expect(() => writer.push({ frames: [] })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => writer.push({ frames: [frames[0]!, { width: 1, height: 1, data: new Uint8ClampedArray(4) }] })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringContaining('frame 1') }));
    expect(() => writer.push({ video: { data: g.latent.data, shape: g.latent.shape } })).toThrow(expect.objectContaining({ code: 'BAD_OPTION', message: expect.stringContaining('videoPreviewer') }));
    expect(() => new ProgressWriter({ sink: new MemorySink(), jobId: 'v', totalSteps: 5, fps: 0 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    await writer.finish();
    expect((await writer.lastRecord)?.video).toBeUndefined();
  });

  describe('a video job folder', () => {
    let root: string;
    beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'taesd-video-')); });
    afterAll(async () => { await rm(root, { recursive: true, force: true }); });

    it('readJobSteps gives each step its layout; gather decodes each step as its first frame (or the sheet)', async () => {
      await run(new ProgressWriter({ sink: new FileSink({ root }), jobId: 'rv', totalSteps: 2, format: 'png' }), [{ frames }, { frames: frames.slice(2) }]);
      const steps = await readJobSteps({ root, jobId: 'rv' });
      expect(steps.map((s) => [s.step, s.video?.frame_count])).toEqual([[0, 9], [1, 7]]);
      const gathered = await gather(steps);
      expect(Buffer.from(gathered.images[1]!.data).equals(Buffer.from(frames[2]!.data))).toBe(true);
    });

    it('pollProgress hands out each video image with its layout; a malformed layout still shows the image', async () => {
      const server = await serveFolder(root);
      try {
        const writer = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'pv', totalSteps: 3, format: 'jpeg', sheetFrames: 9 });
        await writer.start();
        const images: PolledImage[] = [];
        const polled = pollProgress(`${server.origin}/progress/pv/progress.json`, { intervalMs: 50, onImage: (im) => images.push(im) });
        for (let s = 0; s < 3; s++) {
          writer.push({ frames: frames.slice(s) });
          await writer.flush();
          // The poller has shown step s before the next is written (no sleep: the poll is what is waited on).
          await vi.waitFor(() => expect(images.some((im) => im.step === s)).toBe(true), { timeout: 10_000, interval: 10 });
        }
        await writer.finish();
        const last: ProgressRecord = await polled;
        expect(last.status).toBe('completed');
        expect(images.length).toBeGreaterThanOrEqual(2);
        for (const im of images) expect(im.video).toMatchObject({ layout: 'sheet', frame_width: 48, frame_height: 32 });
        const final = images.at(-1)!;
        expect(final.video!.frame_count).toBe(7);
        const sheet = jpegjsDecode(new Uint8Array(await (await fetch(final.url)).arrayBuffer()));
        expect([sheet.width, sheet.height]).toEqual([final.video!.columns * 48, final.video!.rows * 32]);
      } finally {
        await server.close();
      }
      const broken = await serveFolder(root, (path) => path.endsWith('progress.json')
        ? { status: 200, body: JSON.stringify({ job_id: 'rv', status: 'completed', current_step: 2, total_steps: 2, progress_percent: 100, latest_image: 'step_final.png', timestamp: 1, video: { layout: 'sheet', frame_count: 99, columns: 1, rows: 1 } }) }
        : null);
      try {
        const got: PolledImage[] = [], errors: unknown[] = [];
        await pollProgress(`${broken.origin}/progress/rv/progress.json`, { intervalMs: 50, onImage: (im) => got.push(im), onError: (e) => errors.push(e) });
        expect(got.map((im) => [im.name, im.video])).toEqual([['step_final.png', null]]);
        expect(errors.at(-1)).toEqual(expect.objectContaining({ code: 'IO', reason: 'MALFORMED', message: expect.stringContaining('step_final.png') }));
      } finally {
        await broken.close();
      }
    });
  });
});
if (!HAS_SHARED) describe.skip(NO_SHARED_REASON, () => { it('needs ../shared', () => undefined); });
