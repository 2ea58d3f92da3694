// SIGINT/SIGTERM during `taesd-web progress` (issue #19 item 6): the real bin in a child process,
// a real signal sent to it mid-run, then the job folder as a poller sees it.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/progress/jobLock.js';
import { pollProgress } from '../src/progress/poll.js';
import { serveFolder } from './support/progressServer.js';
import { ROOT } from './support/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'taesd-cli-signal-'));
// 40 steps of the 64x64 astronaut: about half a second each, so the run is mid-way when signalled.
const STEPS = Array.from({ length: 40 }, (_, i) => {
  const file = join(tmp, `step_${String(i).padStart(2, '0')}.safetensors`);
  copyFileSync(join(ROOT, 'examples/astronaut.safetensors'), file);
  return file;
});

const readRecord = (dir: string) => {
  try {
    return JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8')) as { status: string; current_step: number; error?: string };
  } catch {
    return null; // not written yet
  }
};

describe('taesd-web progress stopped by a signal', () => {
  it.each([['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const)('%s: status "cancelled", lock released, no temp file, exit %i', async (signal, code) => {
    const jobId = signal.toLowerCase();
    const dir = join(tmp, 'jobs/progress', jobId);
    const child = spawn(process.execPath, [join(ROOT, 'bin/taesd-web.js'), 'progress', ...STEPS, '--backend', 'native', '--job-id', jobId, '--root', 'jobs'], { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    const deadline = performance.now() + 20_000;
    while ((readRecord(dir)?.current_step ?? 0) < 1) {
      if (performance.now() > deadline) throw new Error(`the job did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill(signal); // to bin's parent process, which passes it on to the CLI
    expect(await exited, stderr).toBe(code);
    expect(stderr).toContain(`taesd-web: ${signal}: cancelling the job`);
    const record = readRecord(dir)!;
    expect(record).toMatchObject({ status: 'cancelled', error: `cancelled by ${signal}` });
    expect(record.current_step).toBeLessThan(STEPS.length - 1);
    const files = readdirSync(dir);
    expect(files).not.toContain(LOCK_FILE);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'step_0000.jpeg'))).toBe(true);
    // A poller without staleAfterMs stops at the cancelled record.
    const server = await serveFolder(join(tmp, 'jobs'));
    try {
      const last = await pollProgress(`${server.origin}/progress/${jobId}/progress.json`, { intervalMs: 50 });
      expect(last.status).toBe('cancelled');
    } finally {
      await server.close();
    }
  }, 60_000);
});
