import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTaesdError } from '../src/errors.js';
import type { RgbaImage } from '../src/model/rgba.js';
import { CallbackSink } from '../src/progress/callbackSink.js';
import { FileSink } from '../src/progress/fileSink.js';
import { gather } from '../src/progress/gather.js';
import { MemorySink } from '../src/progress/memorySink.js';
import { checkName } from '../src/progress/names.js';
import type { ProgressRecord } from '../src/progress/record.js';
import { readJobSteps } from '../src/progress/readJob.js';
import { runProgressJob } from '../src/progress/run.js';
import type { Artifact } from '../src/progress/sink.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { LinearTestDecoder, syntheticLatent } from './support/progressDecoder.js';
import { jpegjsDecode, pngjsDecode, psnr, syntheticImage, upngFrames } from './support/progressImages.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'taesd-progress-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const frames = Array.from({ length: 40 }, (_, i) => syntheticImage(32, 24, i + 1));
const same = (a: Uint8Array | undefined, b: Uint8Array | undefined) => !!a && !!b && Buffer.from(a).equals(Buffer.from(b));
const sameImage = (a: RgbaImage, b: RgbaImage) => a.width === b.width && a.height === b.height && same(new Uint8Array(a.data), new Uint8Array(b.data));

async function readRecord(dir: string): Promise<ProgressRecord> {
  return JSON.parse(await readFile(join(dir, 'progress.json'), 'utf8')) as ProgressRecord;
}

describe('ProgressWriter + FileSink: the job folder', () => {
  test('every field of progress.json at every step, then completion', async () => {
    const sink = new FileSink({ root });
    const writer = new ProgressWriter({ sink, jobId: 'fields', totalSteps: 5, includeBase64: true });
    const t0 = Date.now() / 1000;
    await writer.start();
    const dir = join(root, 'progress', 'fields');
    expect(sink.dir).toBe(dir);
    const starting = await readRecord(dir);
    expect(starting).toEqual({
      job_id: 'fields', status: 'starting', current_step: 0, total_steps: 5, progress_percent: 0,
      latest_image: null, timestamp: starting.timestamp, latest_step: null, saved_steps: [], skipped_steps: [],
    });
    expect(starting.timestamp).toBeGreaterThanOrEqual(t0 - 0.01);
    expect((await readdir(dir)).sort()).toEqual(['.taesd-lock', 'progress.json']); // the lock, released by finish()

    let lastTime = starting.timestamp;
    for (let s = 0; s < 5; s++) {
      writer.push(frames[s]!);
      await writer.flush();
      const r = await readRecord(dir);
      const file = await readFile(join(dir, `step_000${s}.jpeg`));
      expect(r).toEqual({
        job_id: 'fields', status: 'generating', current_step: s, total_steps: 5, progress_percent: Math.floor((100 * s) / 5),
        latest_image: `step_000${s}.jpeg`, timestamp: r.timestamp, image_base64: file.toString('base64'),
        latest_step: s, saved_steps: Array.from({ length: s + 1 }, (_, i) => i), skipped_steps: [],
      });
      expect(r.timestamp).toBeGreaterThanOrEqual(lastTime);
      lastTime = r.timestamp;
      expect(same(await readFile(join(dir, 'latest.jpeg')), file)).toBe(true);
      const img = jpegjsDecode(file);
      expect([img.width, img.height]).toEqual([32, 24]);
      expect(psnr(img, frames[s]!)).toBeGreaterThan(25);
    }
    const summary = await writer.finish();
    expect(summary).toEqual({ jobId: 'fields', savedSteps: [0, 1, 2, 3, 4], skippedSteps: [], finalImage: 'step_final.jpeg', lastStep: 4 });
    const done = await readRecord(dir);
    const final = await readFile(join(dir, 'step_final.jpeg'));
    expect(done).toEqual({
      job_id: 'fields', status: 'completed', current_step: 5, total_steps: 5, progress_percent: 100,
      latest_image: 'step_final.jpeg', timestamp: done.timestamp, image_base64: final.toString('base64'),
      latest_step: 4, saved_steps: [0, 1, 2, 3, 4], skipped_steps: [],
    });
    expect(same(final, await readFile(join(dir, 'step_0004.jpeg')))).toBe(true);
    expect(same(final, await readFile(join(dir, 'latest.jpeg')))).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['latest.jpeg', 'progress.json', 'step_0000.jpeg', 'step_0001.jpeg', 'step_0002.jpeg', 'step_0003.jpeg', 'step_0004.jpeg', 'step_final.jpeg']);
  });

  test('step 15 of 20 is 75 %; no image_base64 without includeBase64', async () => {
    const sink = new MemorySink();
    const writer = new ProgressWriter({ sink, jobId: 'pct', totalSteps: 20, startStep: 15 });
    await writer.start();
    writer.push(frames[0]!, 3);
    await writer.flush();
    expect(sink.progress()).toMatchObject({ status: 'generating', current_step: 3, progress_percent: 15, latest_image: null, latest_step: null });
    writer.push(frames[1]!, 15);
    await writer.flush();
    expect(sink.progress()).toMatchObject({ current_step: 15, progress_percent: 75, latest_image: 'step_0015.jpeg' });
    expect(sink.progress()).not.toHaveProperty('image_base64');
  });

  test('png steps are lossless, custom folder/prefix, maxSide downscales', async () => {
    const sink = new FileSink({ root });
    await runProgressJob(frames.slice(0, 3), { sink, jobId: 'png-job', totalSteps: 3, format: 'png', outputFolder: 'out', filenamePrefix: 'frame' });
    const dir = join(root, 'out', 'png-job');
    for (let s = 0; s < 3; s++) expect(sameImage(pngjsDecode(await readFile(join(dir, `frame_000${s}.png`))), frames[s]!)).toBe(true);
    expect(sameImage(pngjsDecode(await readFile(join(dir, 'frame_final.png'))), frames[2]!)).toBe(true);
    expect(sameImage(pngjsDecode(await readFile(join(dir, 'latest.png'))), frames[2]!)).toBe(true);
    expect((await readRecord(dir)).latest_image).toBe('frame_final.png');

    const small = new MemorySink();
    await runProgressJob([syntheticImage(64, 48, 1)], { sink: small, jobId: 'small', totalSteps: 1, format: 'png', maxSide: 32 });
    const im = pngjsDecode(small.get('step_0000.png')!);
    expect([im.width, im.height]).toEqual([32, 24]);
  });

  test('latent steps decode through the given LatentDecoder', async () => {
    const decoder = new LinearTestDecoder();
    const sink = new MemorySink();
    const latents = [0, 1, 2].map((s) => syntheticLatent(6, 5, s));
    await runProgressJob(latents, { sink, decoder, jobId: 'latent', totalSteps: 3, format: 'png' });
    for (let s = 0; s < 3; s++) expect(sameImage(pngjsDecode(sink.get(`step_000${s}.png`)!), await decoder.decode(latents[s]!))).toBe(true);
    const w = new ProgressWriter({ sink: new MemorySink(), jobId: 'nodec', totalSteps: 2 });
    await w.start();
    expect(() => w.push(latents[0]!)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe('filters: startStep <= step <= endStep, (step - startStep) % saveEveryN == 0', () => {
  const cases: [string, { totalSteps: number; saveEveryN?: number; startStep?: number; endStep?: number }, number[]][] = [
    ['defaults save all', { totalSteps: 5 }, [0, 1, 2, 3, 4]],
    ['every 3', { totalSteps: 10, saveEveryN: 3 }, [0, 3, 6, 9]],
    ['every 4 (last step not saved)', { totalSteps: 10, saveEveryN: 4 }, [0, 4, 8]],
    ['start 2 every 3', { totalSteps: 12, saveEveryN: 3, startStep: 2 }, [2, 5, 8, 11]],
    ['start 3 end 6', { totalSteps: 10, startStep: 3, endStep: 6 }, [3, 4, 5, 6]],
    ['end beyond total (the node\'s 999)', { totalSteps: 4, endStep: 999 }, [0, 1, 2, 3]],
    ['start past the end saves nothing', { totalSteps: 3, startStep: 5 }, []],
  ];
  test.each(cases)('%s', async (_, opts, saved) => {
    const sink = new MemorySink();
    const writer = new ProgressWriter({ sink, jobId: 'filters', format: 'png', ...opts });
    await writer.start();
    let lastSaved: string | null = null;
    for (let s = 0; s < opts.totalSteps; s++) {
      writer.push(frames[s]!);
      await writer.flush();
      const r = sink.progress()!;
      expect(r.current_step).toBe(s); // advances on every step, saved or not
      if (saved.includes(s)) lastSaved = `step_${String(s).padStart(4, '0')}.png`;
      expect(r.latest_image).toBe(lastSaved);
    }
    const summary = await writer.finish();
    expect(summary.savedSteps).toEqual(saved);
    expect(sink.stepFiles().map((f) => f.step)).toEqual(saved);
    // The final image is always the last step, decoded even when the filters skipped it.
    const last = opts.totalSteps - 1;
    expect(sameImage(pngjsDecode(sink.get('step_final.png')!), frames[last]!)).toBe(true);
    expect(sink.progress()).toMatchObject({ status: 'completed', latest_step: last, latest_image: 'step_final.png' });
  });
});

describe('safe paths', () => {
  const bad = ['', '.', '..', '../x', 'x/..', '/abs', 'a/b', 'a\\b', 'C:', 'C:\\x', 'a\0b', 'x'.repeat(129), '.hidden', '-rf', 'a b', 'é', 'a\nb',
    // Windows device names (any case, any extension) and a trailing dot, which Windows drops
    'CON', 'prn', 'Aux', 'nul', 'nul.txt', 'NUL.tar.gz', 'com1', 'COM9', 'lpt1', 'Lpt9.png', 'x.', 'step..'];
  test.each(bad.map((v) => [JSON.stringify(v), v]))('%s is rejected as jobId, outputFolder and filenamePrefix before anything is written', async (_, value) => {
    const base = await mkdtemp(join(tmpdir(), 'taesd-unsafe-'));
    for (const key of ['jobId', 'outputFolder', 'filenamePrefix'] as const) {
      const opts = { jobId: 'ok', totalSteps: 2, [key]: value };
      let error: unknown;
      try {
        new ProgressWriter({ sink: new FileSink({ root: base }), ...opts });
      } catch (e) {
        error = e;
      }
      expect(isTaesdError(error, 'UNSAFE_PATH'), `${key}=${JSON.stringify(value)}: ${String(error)}`).toBe(true);
      const sink = new FileSink({ root: base });
      await expect(sink.open({ jobId: 'ok', outputFolder: 'progress', filenamePrefix: 'step', format: 'jpeg', [key]: value })).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    }
    expect(await readdir(base)).toEqual([]);
    await rm(base, { recursive: true });
  });

  test('names that merely start like Windows device names are fine', () => {
    for (const name of ['console', 'nullable', 'com10', 'lpt', 'auxiliary.png', 'con_0000.png', 'my.nul', 'x.y']) expect(checkName('jobId', name)).toBe(name);
  });

  test('a symlinked output folder pointing outside the root is refused', async () => {
    const base = await mkdtemp(join(tmpdir(), 'taesd-link-'));
    const outside = await mkdtemp(join(tmpdir(), 'taesd-outside-'));
    await mkdir(join(base, 'root'));
    await symlink(outside, join(base, 'root', 'progress'));
    const writer = new ProgressWriter({ sink: new FileSink({ root: join(base, 'root') }), jobId: 'j', totalSteps: 1 });
    await expect(writer.start()).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    expect(await readdir(outside)).toEqual([]); // nothing created through the link
    await writeFile(join(base, 'root', 'file'), 'x');
    const w2 = new ProgressWriter({ sink: new FileSink({ root: join(base, 'root') }), jobId: 'j', outputFolder: 'file', totalSteps: 1 });
    await expect(w2.start()).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
    await rm(base, { recursive: true });
    await rm(outside, { recursive: true });
  });

  test('artifact names are checked again by the sink', async () => {
    const sink = new FileSink({ root });
    await sink.open({ jobId: 'names', outputFolder: 'progress', filenamePrefix: 'step', format: 'png' });
    const art = (name: string): Artifact => ({ name, kind: 'step', step: 0, contentType: 'image/png', bytes: new Uint8Array(1) });
    for (const name of ['../evil.png', '/tmp/evil.png', 'a/b.png', '..']) await expect(sink.write(art(name))).rejects.toMatchObject({ code: 'UNSAFE_PATH' });
  });
});

test('fresh job: our files from an earlier run are removed, anything else stays', async () => {
  const dir = join(root, 'progress', 'again');
  await mkdir(dir, { recursive: true });
  const stale = ['progress.json', 'latest.png', 'latest.jpeg', 'step_final.png', 'step_0007.png', 'step_0012.jpeg', 'step_12345.jpg', '.taesd-latest.png.abcd.tmp'];
  const kept = ['notes.txt', 'frame_0001.jpeg', 'step_0001.txt', 'stepx_0001.png'];
  for (const f of [...stale, ...kept]) await writeFile(join(dir, f), 'old');
  await runProgressJob(frames.slice(0, 2), { sink: new FileSink({ root }), jobId: 'again', totalSteps: 2 });
  expect((await readdir(dir)).sort()).toEqual([...kept, 'latest.jpeg', 'progress.json', 'step_0000.jpeg', 'step_0001.jpeg', 'step_final.jpeg'].sort());
  expect((await readJobSteps({ root, jobId: 'again' })).map((f) => f.step)).toEqual([0, 1]);
});

describe('failures', () => {
  test('a decode failure writes status "error" with the message; written files stay', async () => {
    const decoder = new LinearTestDecoder();
    const sink = new FileSink({ root });
    const writer = new ProgressWriter({ sink, decoder, jobId: 'fails', totalSteps: 4 });
    await writer.start();
    writer.push(syntheticLatent(4, 4, 0));
    await writer.flush();
    writer.push({ data: new Float32Array(3 * 16), shape: [3, 4, 4] }); // wrong channel count
    await expect(writer.flush()).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
    const dir = join(root, 'progress', 'fails');
    const r = await readRecord(dir);
    expect(r).toMatchObject({ job_id: 'fails', status: 'error', current_step: 1, total_steps: 4, progress_percent: 25, latest_image: 'step_0000.jpeg', saved_steps: [0] });
    expect(r.error).toMatch(/takes 4/);
    expect((await readdir(dir)).sort()).toEqual(['latest.jpeg', 'progress.json', 'step_0000.jpeg']);
    expect(() => writer.push(syntheticLatent(4, 4, 2))).toThrow(expect.objectContaining({ code: 'LATENT_CHANNELS' }));
    await expect(writer.finish()).rejects.toMatchObject({ code: 'LATENT_CHANNELS' });
  });

  test('runProgressJob: a failing step source ends in "error" and rethrows; abort() works directly', async () => {
    const sink = new MemorySink();
    async function* steps() {
      yield frames[0]!;
      yield frames[1]!;
      throw new Error('sampler crashed');
    }
    await expect(runProgressJob(steps(), { sink, jobId: 'crash', totalSteps: 5 })).rejects.toThrow('sampler crashed');
    expect(sink.progress()).toMatchObject({ status: 'error', error: 'sampler crashed', current_step: 1, saved_steps: [0, 1] });
    expect(sink.get('step_0001.jpeg')).toBeDefined();

    const w = new ProgressWriter({ sink, jobId: 'abort', totalSteps: 3 });
    await w.start();
    w.push(frames[0]!);
    await w.flush();
    w.push(frames[1]!); // pending, not yet in flight: dropped by abort
    await w.abort(new Error('cancelled by user'));
    expect(sink.progress()).toMatchObject({ status: 'error', error: 'cancelled by user', saved_steps: [0], latest_image: 'step_0000.jpeg' });
    await expect(w.finish()).rejects.toThrow('cancelled by user');
  });

  test('bad options and bad steps throw BAD_OPTION', async () => {
    const sink = new MemorySink();
    const base = { sink, jobId: 'opts', totalSteps: 4 };
    for (const o of [{ totalSteps: 0 }, { totalSteps: 1.5 }, { saveEveryN: 0 }, { startStep: -1 }, { startStep: 3, endStep: 2 }, { quality: 101 }, { format: 'gif' as 'png' }, { batch: 'all' as 'grid' }, { maxSide: 0 }, { pngLevel: 10 }])
      expect(() => new ProgressWriter({ ...base, ...o }), JSON.stringify(o)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    const w = new ProgressWriter(base);
    expect(() => w.push(frames[0]!)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' })); // before start
    await w.start();
    w.push(frames[0]!, 2);
    for (const step of [2, 1, 4, 2.5]) expect(() => w.push(frames[1]!, step)).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => w.push({ width: 2, height: 2, data: new Uint8ClampedArray(3) })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    await w.finish();
  });
});

describe('backpressure', () => {
  test('steps faster than a slow sink: newest wins, superseded steps are listed and never decoded, last step always kept', async () => {
    const decoder = new LinearTestDecoder();
    const seen: Artifact[] = [];
    // A transport the test holds shut while it pushes (a slow upload), so which steps overtake which is fixed.
    let holding = false;
    const held: (() => void)[] = [];
    let arrived: (() => void) | null = null;
    const sink = new CallbackSink(async (a) => {
      seen.push(a);
      arrived?.();
      if (holding) await new Promise<void>((r) => held.push(r));
    });
    const release = () => {
      holding = false;
      held.splice(0).forEach((r) => r());
    };
    const writer = new ProgressWriter({ sink, decoder, jobId: 'fast', totalSteps: 40, saveEveryN: 2, heartbeatMs: 10_000 });
    await writer.start();
    // Five bursts of 8 steps: the first is being written when the other 7 arrive; of their eligible
    // steps (+2, +4, +6) the newest is saved and the others are superseded.
    for (let first = 0; first < 40; first += 8) {
      holding = true;
      const writing = new Promise<void>((r) => (arrived = r));
      writer.push(syntheticLatent(4, 4, first));
      await writing;
      arrived = null;
      for (let s = first + 1; s < first + 8; s++) writer.push(syntheticLatent(4, 4, s));
      release();
      if (first < 32) await writer.flush(); // the last burst's step 38 is still pending at finish
    }
    const summary = await writer.finish();
    expect(summary.savedSteps).toEqual([0, 6, 8, 14, 16, 22, 24, 30, 32, 38]);
    expect(summary.skippedSteps).toEqual([2, 4, 10, 12, 18, 20, 26, 28, 34, 36]);
    // Skipped steps were never decoded: one decode per saved step, plus the final step 39 (filtered out).
    expect(decoder.decodes).toBe(summary.savedSteps.length + 1);
    const records = seen.filter((a) => a.kind === 'progress').map((a) => a.record!);
    const last = records.at(-1)!;
    expect(last).toMatchObject({ status: 'completed', current_step: 40, latest_step: 39, skipped_steps: summary.skippedSteps });
    // progress.json never goes backwards.
    for (let i = 1; i < records.length; i++) expect(records[i]!.current_step).toBeGreaterThanOrEqual(records[i - 1]!.current_step);
  });

  test('a burst of pushes with no await keeps one pending step', async () => {
    const sink = new MemorySink();
    const writer = new ProgressWriter({ sink, jobId: 'burst', totalSteps: 30, format: 'png' });
    await writer.start();
    for (let s = 0; s < 30; s++) writer.push(frames[s]!);
    const summary = await writer.finish();
    expect(summary.savedSteps).toEqual([29]);
    expect(summary.skippedSteps).toEqual(Array.from({ length: 29 }, (_, i) => i));
    expect(sink.progress()).toMatchObject({ status: 'completed', skipped_steps: summary.skippedSteps });
  });
});

test('CallbackSink sees the artifacts in write order, after onOpen', async () => {
  const log: string[] = [];
  const sink = new CallbackSink(
    (a, job) => void log.push(`${job.jobId}:${a.kind}:${a.name}:${a.record?.status ?? a.step}`),
    (job) => void log.push(`open:${job.jobId}:${job.outputFolder}:${job.filenamePrefix}:${job.format}`),
  );
  await runProgressJob(frames.slice(0, 2), { sink, jobId: 'cb', totalSteps: 3, format: 'png' });
  expect(log).toEqual([
    'open:cb:progress:step:png',
    'cb:progress:progress.json:starting',
    'cb:step:step_0000.png:0', 'cb:latest:latest.png:0', 'cb:progress:progress.json:generating',
    'cb:step:step_0001.png:1', 'cb:latest:latest.png:1', 'cb:progress:progress.json:generating',
    'cb:final:step_final.png:1', 'cb:latest:latest.png:1', 'cb:progress:progress.json:completed',
  ]);
});

describe('gather', () => {
  test('from memory: all steps in order, a contact sheet and an APNG', async () => {
    const sink = new MemorySink();
    await runProgressJob(frames.slice(0, 6), { sink, jobId: 'g', totalSteps: 6, format: 'png' });
    const g = await gather([...sink.stepFiles()].reverse(), { cellSide: 16, animationSide: 16 });
    expect(g.steps).toEqual([0, 1, 2, 3, 4, 5]);
    g.images.forEach((im, i) => expect(sameImage(im, frames[i]!)).toBe(true));
    const sheet = pngjsDecode(g.contactSheetPng);
    expect([sheet.width, sheet.height]).toEqual([4 + 3 * 20, 4 + 2 * 20]);
    const anim = upngFrames(g.apng);
    expect([anim.width, anim.height, anim.frames.length]).toEqual([16, 12, 6]);
  });

  test('from a job folder on disk (JPEG), as the node\'s "Get Intermediate Images"', async () => {
    await runProgressJob(frames.slice(0, 4), { sink: new FileSink({ root }), jobId: 'gdisk', totalSteps: 4, saveEveryN: 2 });
    const files = await readJobSteps({ root, jobId: 'gdisk' });
    expect(files.map((f) => f.name)).toEqual(['step_0000.jpeg', 'step_0002.jpeg']);
    const g = await gather(files);
    expect(g.steps).toEqual([0, 2]);
    expect(psnr(g.images[1]!, frames[2]!)).toBeGreaterThan(25);
    await expect(gather([])).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(gather([{ step: 0, name: 'x.png', bytes: new Uint8Array(8) }])).rejects.toMatchObject({ code: 'IO' });
  });
});
