import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeJpeg } from '../src/image/jpeg.js';
import { FileSink } from '../src/progress/fileSink.js';
import { pollProgress, type PolledImage } from '../src/progress/poll.js';
import type { ProgressRecord } from '../src/progress/record.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { jpegjsDecode, syntheticImage } from './support/progressImages.js';
import { serveFolder } from './support/progressServer.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'taesd-poll-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frames = Array.from({ length: 4 }, (_, i) => syntheticImage(64, 64, i + 1));

describe('pollProgress against a real HTTP server', () => {
  test('follows a job folder while it is written, from before it exists to completed', async () => {
    const server = await serveFolder(root);
    try {
      const records: ProgressRecord[] = [];
      const images: PolledImage[] = [];
      // Start polling before the job folder exists: 404s are waited out.
      const polling = pollProgress(`${server.origin}/progress/live/progress.json`, {
        intervalMs: 50,
        onProgress: (r) => records.push(r),
        onImage: (im) => images.push(im),
      });
      await sleep(120);
      const writer = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'live', totalSteps: 24 });
      await writer.start();
      for (let s = 0; s < 24; s++) {
        writer.push(frames[s % 4]!);
        await writer.flush();
        await sleep(25);
      }
      await writer.finish();
      const last = await polling;

      expect(last).toMatchObject({ status: 'completed', current_step: 24, progress_percent: 100, latest_image: 'step_final.jpeg' });
      expect(records.at(-1)).toEqual(last);
      expect(records.length).toBeGreaterThan(5);
      for (let i = 1; i < records.length; i++) expect(records[i]!.current_step).toBeGreaterThanOrEqual(records[i - 1]!.current_step);
      // Images: strictly newer each time, URLs resolved against the JSON's URL, each one served and decodable.
      expect(images.length).toBeGreaterThan(3);
      for (let i = 1; i < images.length - 1; i++) expect(images[i]!.step).toBeGreaterThan(images[i - 1]!.step);
      expect(images.at(-1)).toMatchObject({ name: 'step_final.jpeg', url: `${server.origin}/progress/live/step_final.jpeg`, step: 23, dataUrl: null });
      for (const im of images) {
        expect(im.url).toBe(`${server.origin}/progress/live/${im.name}`);
        const res = await fetch(im.url, { cache: 'no-store' });
        expect(res.status).toBe(200);
        expect(jpegjsDecode(new Uint8Array(await res.arrayBuffer())).width).toBe(64);
      }
      // Polls went out uncacheable: no conditional request a 1-second Last-Modified could answer with 304.
      const polls = server.requests.filter((r) => r.path.endsWith('progress.json'));
      expect(polls.length).toBeGreaterThan(10);
      for (const r of polls) {
        expect(r.headers['if-modified-since']).toBeUndefined();
        expect(r.headers['cache-control']).toBe('no-cache');
      }
    } finally {
      await server.close();
    }
  });

  test('a folder written by the ComfyUI node itself: same fields, non-atomic writes, never "completed"', async () => {
    const dir = join(root, 'node-out', 'progress', 'comfy1');
    await mkdir(dir, { recursive: true });
    const server = await serveFolder(join(root, 'node-out'));
    const controller = new AbortController();
    const closed = new Error('user closed the page');
    const images: PolledImage[] = [];
    const errors: unknown[] = [];
    try {
      const polling = pollProgress(`${server.origin}/progress/comfy1/progress.json`, {
        intervalMs: 50,
        signal: controller.signal,
        onImage: (im) => {
          images.push(im);
          if (im.step === 5) controller.abort(closed);
        },
        onError: (e) => errors.push(e),
      });
      const outcome = polling.then(() => null, (e: unknown) => e); // it rejects while we are still writing
      // The node: progress.json opened with 'w' (truncated) then json.dump'ed, images saved by PIL.
      const write = async (rec: object) => {
        await writeFile(join(dir, 'progress.json'), '');
        await sleep(5); // the window in which a reader sees an empty file
        await writeFile(join(dir, 'progress.json'), JSON.stringify(rec));
      };
      await write({ job_id: 'comfy1', status: 'starting', current_step: 0, total_steps: 6, progress_percent: 0, latest_image: null, timestamp: Date.now() / 1000 });
      for (let s = 0; s < 6; s++) {
        const name = `step_${String(s).padStart(4, '0')}.jpeg`;
        const jpg = await encodeJpeg(frames[s % 4]!);
        await writeFile(join(dir, name), jpg);
        await writeFile(join(dir, 'latest.jpeg'), jpg);
        await write({ job_id: 'comfy1', status: 'generating', current_step: s, total_steps: 6, progress_percent: Math.floor((s / 6) * 100), latest_image: name, timestamp: Date.now() / 1000 });
        await sleep(80);
      }
      expect(await outcome).toBe(closed);
      expect(images.map((i) => i.step)).toEqual([...new Set(images.map((i) => i.step))].sort((a, b) => a - b));
      expect(images.at(-1)).toMatchObject({ step: 5, name: 'step_0005.jpeg', url: `${server.origin}/progress/comfy1/step_0005.jpeg` });
    } finally {
      await server.close();
    }
  });

  test('never goes back to an older step; base64 becomes a data URL', async () => {
    const rec = (status: string, step: number, extra: object = {}) =>
      JSON.stringify({ job_id: 'j', status, current_step: step, total_steps: 10, progress_percent: step * 10, latest_image: `step_000${step}.jpeg`, timestamp: step, ...extra });
    const bodies = [rec('generating', 5), rec('generating', 3), rec('generating', 6, { image_base64: 'AAAA' }), rec('generating', 4), 'not json{', rec('completed', 10, { latest_image: 'step_final.jpeg' })];
    const server = await serveFolder(root, (_, n) => ({ status: 200, body: bodies[Math.min(n, bodies.length - 1)]! }));
    try {
      const steps: number[] = [];
      const images: PolledImage[] = [];
      const errors: unknown[] = [];
      const last = await pollProgress(new URL('/a/b/progress.json?sig=1', server.origin), {
        intervalMs: 50,
        onProgress: (r) => steps.push(r.current_step),
        onImage: (im) => images.push(im),
        onError: (e) => errors.push(e),
      });
      expect(last.status).toBe('completed');
      expect(steps).toEqual([5, 6, 10]);
      expect(images.map((i) => [i.step, i.name, i.dataUrl])).toEqual([
        [5, 'step_0005.jpeg', null],
        [6, 'step_0006.jpeg', 'data:image/jpeg;base64,AAAA'],
        [10, 'step_final.jpeg', null],
      ]);
      expect(images[0]!.url).toBe(`${server.origin}/a/b/step_0005.jpeg`);
      expect(errors.length).toBe(1); // the torn body
    } finally {
      await server.close();
    }
  });

  test('backs off on server errors, resets after success; stops at "error"', async () => {
    const ok = JSON.stringify({ job_id: 'e', status: 'error', error: 'boom', current_step: 2, total_steps: 4, progress_percent: 50, latest_image: null, timestamp: 1 });
    const server = await serveFolder(root, (_, n) => (n < 4 ? { status: 503, body: 'busy' } : { status: 200, body: ok }));
    try {
      const last = await pollProgress(`${server.origin}/progress.json`, { intervalMs: 50, maxBackoffMs: 300 });
      expect(last).toMatchObject({ status: 'error', error: 'boom' });
      const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
      // waits: 100, 200, 300 (capped), 300 after 1..4 failures
      expect(gaps[0]).toBeGreaterThanOrEqual(95);
      expect(gaps[1]).toBeGreaterThanOrEqual(195);
      expect(gaps[2]).toBeGreaterThanOrEqual(295);
      expect(gaps[2]).toBeLessThan(450);
    } finally {
      await server.close();
    }
  });

  test('network errors (nothing listening) back off until aborted; bad URLs and options are refused', async () => {
    const server = await serveFolder(root);
    const origin = server.origin;
    await server.close();
    const errors: number[] = [];
    const t0 = performance.now();
    const polling = pollProgress(`${origin}/progress.json`, { intervalMs: 50, signal: AbortSignal.timeout(700), onError: () => errors.push(performance.now() - t0) });
    await expect(polling).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.length).toBeLessThanOrEqual(5); // 100 + 200 + 400 ms of backoff, not 14 polls at 50 ms
    await expect(pollProgress('/relative/progress.json')).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(pollProgress(`${origin}/p.json`, { intervalMs: 1 })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    const aborted = new AbortController();
    const already = new Error('already');
    aborted.abort(already);
    await expect(pollProgress(`${origin}/p.json`, { signal: aborted.signal })).rejects.toBe(already);
  });
});
