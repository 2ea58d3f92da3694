// Issue #12, items 8-12: job folders that stay honest under a full disk, a second writer, long
// names and a writer killed mid-run. Real files, a real tmpfs (as root), real child processes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TaesdErrorReason } from '../src/errors.js';
import type { LatentInput } from '../src/model/decoderTypes.js';
import type { RgbaImage } from '../src/model/rgba.js';
import { FileSink } from '../src/progress/fileSink.js';
import { LOCK_FILE } from '../src/progress/jobLock.js';
import { pollProgress } from '../src/progress/poll.js';
import { MAX_STEP_FILE_BYTES, readJobSteps } from '../src/progress/readJob.js';
import type { ProgressRecord } from '../src/progress/record.js';
import { runProgressJob } from '../src/progress/run.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { bundleForNode } from './support/bundle.js';
import { LinearTestDecoder, syntheticLatent } from './support/progressDecoder.js';
import { noiseImage, syntheticImage } from './support/progressImages.js';
import { serveFolder } from './support/progressServer.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'taesd-jobs-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const frames = Array.from({ length: 4 }, (_, i) => syntheticImage(32, 24, i + 1));
const record = (dir: string): ProgressRecord => JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8')) as ProgressRecord;

/** A tmpfs of `size` at a fresh folder, or why there cannot be one here. */
function mountTmpfs(size: string): { dir: string } | { skip: string } {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root on Linux' };
  const dir = mkdtempSync(join(tmpdir(), 'taesd-full-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status === 0) return { dir };
  rmdirSync(dir);
  return { skip: `mount -t tmpfs failed: ${(r.stderr || r.error?.message || '').trim()}` };
}

/** Writes a file at `path` until the file system has no space left. */
async function fill(path: string): Promise<void> {
  const chunk = new Uint8Array(64 * 1024);
  try {
    for (let i = 0; ; i++) await writeFile(path, chunk, { flag: i ? 'a' : 'w' });
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
  }
}

describe('item 8: a full disk', () => {
  test.for([
    ['without image_base64', false],
    ['with image_base64', true],
  ] as const)('the error still reaches progress.json, naming the cause and no server path (%s)', async ([, includeBase64], ctx) => {
    const mount = mountTmpfs('256k');
    if ('skip' in mount) {
      console.warn(`full-disk test skipped: ${mount.skip}`);
      return ctx.skip();
    }
    try {
      const dir = join(mount.dir, 'progress', 'full');
      const writer = new ProgressWriter({ sink: new FileSink({ root: mount.dir }), jobId: 'full', totalSteps: 5, format: 'png', pngLevel: 0, includeBase64 });
      await writer.start();
      writer.push(noiseImage(32, 32, 1));
      await writer.flush();
      await fill(join(mount.dir, 'filler'));
      writer.push(noiseImage(32, 32, 2));
      const error = (await writer.flush().then(() => null, (e: unknown) => e)) as Error & { code?: string };
      expect(error).toMatchObject({ code: 'IO' });
      expect(error.message).toBe('cannot write step_0001.png in job progress/full: no space left on device (ENOSPC)');

      const r = record(dir);
      expect(r).toMatchObject({ status: 'error', current_step: 1, saved_steps: [0], latest_image: 'step_0000.png', error: error.message });
      expect(JSON.stringify(r)).not.toContain(mount.dir);
      expect(r).not.toHaveProperty('image_base64');
      // No temp file left behind, and the lock released (unlinking needs no space).
      expect(readdirSync(dir).sort()).toEqual(['latest.png', 'progress.json', 'step_0000.png']);
      await expect(writer.finish()).rejects.toBe(error);
    } finally {
      spawnSync('umount', [mount.dir]);
      rmdirSync(mount.dir);
    }
  });
});

test('item 8: no server path reaches progress.json from any error', async () => {
  const writer = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'paths', totalSteps: 2 });
  await writer.start();
  await writer.abort(new Error("ENOENT: no such file or directory, open '/srv/app/secret/latents/x.npy' (from C:\\Users\\me\\y.npy, ratio 3 / 4)"));
  expect(record(join(root, 'progress', 'paths')).error).toBe("ENOENT: no such file or directory, open '…/x.npy' (from …/y.npy, ratio 3 / 4)");
});

describe('item 10: one writer per job', () => {
  test('a second writer on a live job is refused, before it touches the folder', async () => {
    const dir = join(root, 'progress', 'twice');
    const first = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'twice', totalSteps: 2, format: 'png' });
    await first.start();
    first.push(frames[0]!);
    await first.flush();
    const second = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'twice', totalSteps: 2, format: 'png' });
    const refused = (await second.start().catch((e: unknown) => e)) as Error;
    expect(refused).toEqual(expect.objectContaining({ code: 'IO', reason: 'LOCKED' }));
    for (const named of ['progress/twice', String(process.pid)]) expect(refused.message).toContain(named);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, 'latest.png', 'progress.json', 'step_0000.png']);
    first.push(frames[1]!);
    await first.finish();
    expect(record(dir)).toMatchObject({ status: 'completed', saved_steps: [0, 1] });
    // Released: the next run of the job goes ahead.
    await runProgressJob(frames.slice(0, 1), { sink: new FileSink({ root }), jobId: 'twice', totalSteps: 1, format: 'png' });
    expect(readdirSync(dir).sort()).toEqual(['latest.png', 'progress.json', 'step_0000.png', 'step_final.png']);
  });

  const lockOf = (jobId: string, holder: object, ageMs: number) => {
    const dir = join(root, 'progress', jobId);
    spawnSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ since: '2020-01-01T00:00:00Z', token: 'x', ...holder }));
    const t = (Date.now() - ageMs) / 1000;
    utimesSync(join(dir, LOCK_FILE), t, t);
  };
  test.each([
    ['another host, refreshed 5 s ago', 'refused', { pid: 1, host: 'elsewhere' }, 5_000],
    ['another host, unrefreshed for 2 minutes', 'taken over', { pid: 1, host: 'elsewhere' }, 120_000],
    ['this host, a dead pid', 'taken over', { pid: 2 ** 22 + 12345, host: undefined }, 0],
    ['this host, our own pid, but not held by us (a restarted container)', 'taken over', { pid: process.pid, host: undefined }, 0],
    ['nobody yet (empty: being written just now)', 'refused', null, 0],
  ])('a lock of %s is %s', async (name, outcome, holder, ageMs) => {
    const jobId = `lock-${name.replace(/\W+/g, '-')}`.slice(0, 60);
    if (holder) lockOf(jobId, { ...holder, host: holder.host ?? (await import('node:os')).hostname() }, ageMs);
    else {
      lockOf(jobId, {}, 0);
      writeFileSync(join(root, 'progress', jobId, LOCK_FILE), '');
    }
    const run = runProgressJob(frames.slice(0, 1), { sink: new FileSink({ root }), jobId, totalSteps: 1, format: 'png' });
    if (outcome === 'refused') await expect(run).rejects.toThrow(expect.objectContaining({ code: 'IO', reason: 'LOCKED' }));
    else {
      await run;
      expect(readdirSync(join(root, 'progress', jobId))).not.toContain(LOCK_FILE);
    }
  });
});

describe('item 11: names are checked against the longest file they make', () => {
  test('a 120-character prefix is refused up front; 117 works end to end', async () => {
    expect(() => new ProgressWriter({ sink: new FileSink({ root }), jobId: 'long', totalSteps: 2, filenamePrefix: 'p'.repeat(120) })).toThrow(
      expect.objectContaining({ code: 'UNSAFE_PATH', reason: 'TOO_LARGE', message: expect.stringContaining(`${'p'.repeat(120)}_final.jpeg`) }),
    );
    const prefix = 'p'.repeat(117);
    await runProgressJob(frames.slice(0, 2), { sink: new FileSink({ root }), jobId: 'long', totalSteps: 2, filenamePrefix: prefix });
    expect(readdirSync(join(root, 'progress', 'long')).sort()).toEqual([`${prefix}_0000.jpeg`, `${prefix}_0001.jpeg`, `${prefix}_final.jpeg`, 'latest.jpeg', 'progress.json'].sort());
  });
});

describe('item 12: a heartbeat tells a dead writer from a slow step', () => {
  /** A decoder whose decode waits until the test releases it: the step stays in flight as long as the test needs. */
  class GatedDecoder extends LinearTestDecoder {
    release: () => void = () => undefined;
    private readonly gate = new Promise<void>((r) => (this.release = r));
    override async decode(latent: LatentInput): Promise<RgbaImage> {
      await this.gate;
      return super.decode(latent);
    }
  }

  test('timestamp moves on while a step decodes', async () => {
    const dir = join(root, 'progress', 'beat');
    const decoder = new GatedDecoder();
    const writer = new ProgressWriter({ sink: new FileSink({ root }), decoder, jobId: 'beat', totalSteps: 2, heartbeatMs: 100 });
    await writer.start();
    writer.push(syntheticLatent(2, 2, 0));
    const seen: ProgressRecord[] = [];
    // The step cannot finish before release: read until the heartbeat has moved the timestamp on three times.
    while (new Set(seen.map((r) => r.timestamp)).size < 4) {
      await sleep(130);
      seen.push(record(dir));
    }
    expect(seen.every((r) => r.status === 'generating' && r.current_step === 0 && r.latest_image === null)).toBe(true);
    decoder.release();
    await writer.finish();
  });

  test('a writer killed with SIGKILL: the poller gives up (staleAfterMs), the next writer takes the job over', async () => {
    const script = await bundleForNode('test/support/jobChild.ts');
    const child = spawn(process.execPath, [script, root, 'killed', '150'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('started');
    const server = await serveFolder(root);
    try {
      const errors: unknown[] = [];
      const polling = pollProgress(`${server.origin}/progress/killed/progress.json`, { intervalMs: 100, staleAfterMs: 1000, onError: (e) => errors.push(e) });
      const outcome = polling.then(() => 'resolved', (e: Error) => e);
      // Alive, though no step arrives: the heartbeat keeps the poller waiting.
      await sleep(2000);
      expect(await Promise.race([outcome, sleep(0).then(() => 'pending')])).toBe('pending');

      const killedAt = performance.now();
      child.kill('SIGKILL');
      const error = (await outcome) as Error & { code?: string };
      expect(error).toEqual(expect.objectContaining({ code: 'IO', reason: 'STALE', message: expect.stringContaining('progress/killed/progress.json') }));
      const detectedMs = performance.now() - killedAt;
      console.log(`dead writer: the poller gave up ${detectedMs.toFixed(0)} ms after SIGKILL (heartbeat 150 ms, staleAfterMs 1000)`);
      expect(detectedMs).toBeLessThan(3000);
      expect(record(join(root, 'progress', 'killed'))).toMatchObject({ status: 'generating', saved_steps: [0] });
    } finally {
      await server.close();
    }
    // The dead writer's lock names a dead pid: taken over at once.
    await runProgressJob(frames.slice(0, 1), { sink: new FileSink({ root }), jobId: 'killed', totalSteps: 1 });
    expect(record(join(root, 'progress', 'killed'))).toMatchObject({ status: 'completed' });
  });
});

describe('issue #19 item 7: readJobSteps reads only regular step files, each within its cap', () => {
  /** A job folder holding a real step and `plant` under step_0001.png. */
  async function planted(plant: (path: string) => void): Promise<unknown> {
    const root = mkdtempSync(join(tmpdir(), 'taesd-planted-'));
    const dir = join(root, 'progress', 'j');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'step_0000.png'), new Uint8Array(8));
    plant(join(dir, 'step_0001.png'));
    const start = performance.now();
    try {
      return await readJobSteps({ root, jobId: 'j' }).catch((e: unknown) => e);
    } finally {
      expect(performance.now() - start).toBeLessThan(2000);
      rmSync(root, { recursive: true, force: true });
    }
  }

  test.skipIf(process.platform === 'win32')('a FIFO and /dev/zero under a step name are IO, without hanging or reading', async () => {
    const notRegular = expect.objectContaining({ code: 'IO', reason: 'NOT_REGULAR_FILE', message: expect.stringContaining('step_0001.png') });
    expect(await planted((p) => spawnSync('mkfifo', [p]))).toEqual(notRegular);
    if (existsSync('/dev/zero')) expect(await planted((p) => symlinkSync('/dev/zero', p))).toEqual(notRegular);
  });

  test.skipIf(process.platform === 'win32')('a FIFO or /dev/zero planted as the job lock is IO, without hanging or reading', async () => {
    const root = mkdtempSync(join(tmpdir(), 'taesd-lockplant-'));
    type Plant = [jobId: string, plant: (p: string) => void, reason: TaesdErrorReason, named: string];
    const plants: Plant[] = [
      ['fifo', (p) => spawnSync('mkfifo', [p]), 'NOT_REGULAR_FILE', LOCK_FILE],
      ...(existsSync('/dev/zero') ? [['zero', (p: string) => symlinkSync('/dev/zero', p), 'NOT_REGULAR_FILE', LOCK_FILE] as Plant] : []),
      ['huge', (p) => { writeFileSync(p, ''); truncateSync(p, 1 << 30); }, 'TOO_LARGE', String(1 << 30)],
    ];
    try {
      for (const [jobId, plant, reason, named] of plants) {
        mkdirSync(join(root, 'progress', jobId), { recursive: true });
        plant(join(root, 'progress', jobId, LOCK_FILE));
        const start = performance.now();
        await expect(new FileSink({ root }).open({ jobId, outputFolder: 'progress', filenamePrefix: 'step', format: 'png' }), jobId).rejects.toThrow(expect.objectContaining({ code: 'IO', reason, message: expect.stringContaining(named) }));
        expect(performance.now() - start).toBeLessThan(2000);
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a sparse step file over the cap is refused from its size', async () => {
    const e = await planted((p) => { writeFileSync(p, ''); truncateSync(p, MAX_STEP_FILE_BYTES + 1); });
    expect(e).toEqual(expect.objectContaining({ code: 'IO', reason: 'TOO_LARGE' }));
    for (const named of ['step_0001.png', String(MAX_STEP_FILE_BYTES + 1)]) expect((e as Error).message).toContain(named);
  });
});
