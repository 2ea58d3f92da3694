// A poller in another process reads progress.json and the images in a tight loop while 200
// steps are written: every read must be a complete, valid file.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from 'vitest';
import { FileSink } from '../src/progress/fileSink.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { POLLER_SOURCE } from './support/progressPoller.js';
import { syntheticImage } from './support/progressImages.js';

interface PollerResult {
  reads: number;
  imageReads: number;
  jsonFailures: number;
  imageFailures: number;
  missingAfterSeen: number;
  backwards: number;
  completed: boolean;
  samples: string[];
}

test('200 steps written while another process polls: zero torn reads', async () => {
  const root = await mkdtemp(join(tmpdir(), 'taesd-atomic-'));
  try {
    const script = join(root, 'poller.mjs');
    await writeFile(script, POLLER_SOURCE);
    const jobDir = join(root, 'progress', 'atomic');
    const child = spawn(process.execPath, [script, jobDir, createRequire(import.meta.url).resolve('jpeg-js'), '50000'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe('ready');

    const frames = Array.from({ length: 8 }, (_, i) => syntheticImage(128, 128, i + 1));
    const writer = new ProgressWriter({ sink: new FileSink({ root }), jobId: 'atomic', totalSteps: 200, includeBase64: true });
    await writer.start();
    for (let s = 0; s < 200; s++) {
      writer.push(frames[s % frames.length]!);
      await writer.flush(); // save every step: the most writes a poller can race with
    }
    const summary = await writer.finish();
    expect(summary.savedSteps.length).toBe(200);

    const result = JSON.parse((await lines.next()).value as string) as PollerResult;
    await new Promise((r) => child.once('exit', r));
    console.log(`atomic: ${result.reads} progress.json reads, ${result.imageReads} image reads by the poller`);
    expect(result.completed).toBe(true);
    expect(result.reads).toBeGreaterThan(50); // the poller really ran alongside the writer
    expect(result.samples).toEqual([]);
    expect(result).toMatchObject({ jsonFailures: 0, imageFailures: 0, missingAfterSeen: 0, backwards: 0 });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
