// The CLI's partial decodes and batches (issue 13): --scale against the partial goldens, a batch
// to one [N,3,H,W] safetensors or one image per item, and the progress job's batch modes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../src/image/pngDecode.js';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { loadGolden } from './support/golden.js';
import { maxAbsDiff } from './support/reference.js';
import { golden, HAS_SHARED, ROOT } from './support/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'taesd-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), ...args], { encoding: 'utf8', cwd: tmp });
const image = (file: string) => parseSafetensors(readFileSync(join(tmp, file))).tensors.get('image')!;

describe.skipIf(!HAS_SHARED)('taesd-web decode --scale and batches', () => {
  it.each([['0.5', 'half'], ['1/4', 'quarter']])('--scale %s matches the taef2_rand_8x8_%s golden', (scale, name) => {
    const r = cli('decode', golden('taef2_rand_8x8'), '--model', 'taef2', '--backend', 'native', '--scale', scale, '--out', `${name}.safetensors`);
    expect(r.status, r.stderr).toBe(0);
    const want = loadGolden(`taef2_rand_8x8_${name}`).image;
    expect(image(`${name}.safetensors`).shape).toEqual(want.shape);
    expect(maxAbsDiff(image(`${name}.safetensors`).data, want.data)).toBeLessThan(2e-3);
  });

  it('a batch goes to one [N,3,H,W] safetensors, or to one image per item with --out-dir', () => {
    const g = loadGolden('taef2_batch_5x7');
    expect(cli('decode', golden('taef2_batch_5x7'), '--model', 'taef2', '--backend', 'native', '--out', 'batch.safetensors').status).toBe(0);
    expect(image('batch.safetensors').shape).toEqual([2, 3, 40, 56]);
    expect(maxAbsDiff(image('batch.safetensors').data, g.image.data)).toBeLessThan(2e-3);
    const r = cli('decode', golden('taef2_batch_5x7'), '--model', 'taef2', '--backend', 'native', '--out-dir', 'items');
    expect(r.status, r.stderr).toBe(0);
    for (const k of [0, 1]) expect(decodePng(readFileSync(join(tmp, 'items', `taef2_batch_5x7_b${k}.png`))).width).toBe(56);
    const one = cli('decode', golden('taef2_batch_5x7'), '--model', 'taef2', '--backend', 'native', '--out', 'one.png');
    expect(one.status).toBe(1);
    expect(one.stderr).toMatch(/batch of 2: write it with --out-dir/);
    expect(existsSync(join(tmp, 'one.png'))).toBe(false);
  });

  it('refuses a scale that is not a power of two (usage, exit 2) and one past the model (exit 1)', () => {
    expect(cli('decode', golden('taef2_rand_8x8'), '--model', 'taef2', '--scale', '0.3', '--out', 'x.png').status).toBe(2);
    const r = cli('decode', golden('taef2_rand_8x8'), '--model', 'taef2', '--backend', 'native', '--scale', '1/16', '--out', 'x.png');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/scale must be one of 1, 1\/2, 1\/4, 1\/8 for taef2/);
  });

  it('progress saves the first item, a grid, or each item of a batch step', () => {
    const g = loadGolden('taef2_batch_5x7');
    writeFileSync(join(tmp, 'step.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [...g.latent.shape], data: g.latent.data } }));
    const run = (batch: string) => cli('progress', 'step.safetensors', '--model', 'taef2', '--backend', 'native', '--job-id', batch, '--root', 'jobs', '--format', 'png', '--batch', batch, '--scale', '0.5');
    for (const batch of ['first', 'grid', 'each']) expect(run(batch).status, batch).toBe(0);
    const png = (job: string, file: string) => decodePng(readFileSync(join(tmp, 'jobs/progress', job, file)));
    // Scale 1/2: 20x28 per item.
    expect([png('first', 'step_0000.png').width, png('first', 'step_0000.png').height]).toEqual([28, 20]);
    expect(existsSync(join(tmp, 'jobs/progress/first/step_0000_b1.png'))).toBe(false);
    expect([png('grid', 'step_0000.png').width, png('grid', 'step_0000.png').height]).toEqual([56, 28]);
    expect(png('each', 'step_0000.png').width).toBe(28);
    expect(png('each', 'step_0000_b1.png').width).toBe(28);
    expect(png('each', 'step_0000_b1.png').data).not.toEqual(png('each', 'step_0000.png').data);
    expect(JSON.parse(readFileSync(join(tmp, 'jobs/progress/each/progress.json'), 'utf8')).latest_image).toBe('step_final.png');
  });
});
