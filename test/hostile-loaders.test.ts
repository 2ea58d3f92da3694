// Issue #12, items 1-6 and 13: every hostile weights, latent or PNG file gets a typed error (or,
// when it is valid, a correct decode) within bounded time and memory. Each file is generated,
// then loaded in a child process of its own so its peak memory is its own. With
// TAESD_HOSTILE_KEEP=<folder> the files stay there, named by their row, to measure by hand:
// `/usr/bin/time -v node node_modules/.cache/taesd-test-bundles/loaderChild/loaderChild.mjs <reader> <file>`.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLatentFile } from '../src/cli/latentFile.js';
import { loadStateDict } from '../src/weights/load.js';
import { parseNpy } from '../src/weights/npy.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { bundleForNode } from './support/bundle.js';
import { HOSTILE_FILES, npyFile, unalignedSafetensors } from './support/hostileFiles.js';
import type { LoaderOutcome } from './support/loaderChild.js';

/** Generous bounds that still prove boundedness: the unbounded loaders took 10 s to 36 min and 2-5 GB. */
const MAX_MS = 5000;
const MAX_RSS_MIB = 400;

const KEEP = process.env.TAESD_HOSTILE_KEEP;
let dir: string;
let child: string;
beforeAll(async () => {
  dir = KEEP ?? mkdtempSync(join(tmpdir(), 'taesd-hostile-'));
  mkdirSync(dir, { recursive: true });
  child = await bundleForNode('test/support/loaderChild.ts');
});
afterAll(() => KEEP ?? rmSync(dir, { recursive: true, force: true }));

const rows: string[] = [];
afterAll(() => console.log(`hostile files (parse ms, peak RSS of the loading process):\n${rows.join('\n')}`));

describe('hostile files: typed within bounds', () => {
  it.each(HOSTILE_FILES.map((f, i) => [f.name, f, i] as const))('%s', (_, f, i) => {
    const file = join(dir, `${String(i).padStart(2, '0')}-${f.reader}${f.ext ?? '.bin'}`);
    const bytes = f.bytes();
    writeFileSync(file, bytes);
    const run = spawnSync(process.execPath, [child, f.reader, file], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as LoaderOutcome;
    rows.push(`${f.name}: ${bytes.length} bytes -> ${r.outcome} ${r.detail}, ${r.ms.toFixed(0)} ms, ${r.maxRssMiB.toFixed(0)} MiB`);
    if (f.expect === 'ok') expect(r.outcome, r.message).toBe('ok');
    else expect({ code: r.detail, reason: r.reason }, r.message).toEqual({ code: f.expect, reason: f.reason });
    if (f.named !== undefined) expect(r.message).toContain(f.named);
    expect(r.ms).toBeLessThan(MAX_MS);
    expect(r.maxRssMiB).toBeLessThan(MAX_RSS_MIB);
    if (!KEEP) rmSync(file);
  });
});

describe('item 5: data that is not 4-byte aligned decodes correctly, from Buffers too', () => {
  const values = Float32Array.from([1.5, -2, 3.25, 1e-3, -0]);

  it('safetensors with an unpadded header, as a Buffer slice and through loadStateDict', async () => {
    const file = unalignedSafetensors(values);
    const buffer = Buffer.concat([Buffer.alloc(3), Buffer.from(file)]).subarray(3); // a Buffer view at an odd offset
    expect(parseSafetensors(buffer).tensors.get('latent')!.data).toEqual(values);
    expect((await loadStateDict(buffer)).dict.get('latent')!.data).toEqual(values);
  });

  it('.npy at every data offset mod 4', () => {
    for (const align of [0, 1, 2, 3]) {
      const buffer = Buffer.from(npyFile([5], values, align));
      expect(parseNpy(buffer).data, `offset ${align} mod 4`).toEqual(values);
    }
  });

  it('readLatentFile reads both from disk', async () => {
    writeFileSync(join(dir, 'odd.safetensors'), unalignedSafetensors(values));
    writeFileSync(join(dir, 'odd.npy'), npyFile([5], values, 3));
    expect((await readLatentFile(join(dir, 'odd.safetensors'))).latent.data).toEqual(values);
    expect((await readLatentFile(join(dir, 'odd.npy'))).latent.data).toEqual(values);
  });
});
