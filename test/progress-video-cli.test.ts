// `taesd-web progress --model <video id>` end to end (the built CLI in a child process): golden
// Wan 2.1 latents as the steps, previews made cheap-first within --budget-ms, the job folder's
// progress.json saying what each step was made with.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressRecord } from '../src/progress/record.js';
import { createLinearVideoDecoder } from '../src/linearVideo.js';
import { VIDEO_FAMILIES, videoVaeToModel } from '../src/model/videoFamilies.js';
import { encodeSafetensors } from '../src/weights/safetensors.js';
import { upngFrames } from './support/progressImages.js';
import { HAS_SHARED, NO_SHARED_REASON, ROOT } from './support/shared.js';
import { loadVideoGolden } from './support/videoGolden.js';

describe.skipIf(!HAS_SHARED)('taesd-web progress with a video model', () => {
  let tmp: string, latent: string, weights: string;
  const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), ...args], { encoding: 'utf8', cwd: tmp });
  const record = (job: string) => JSON.parse(readFileSync(join(tmp, 'progress', job, 'progress.json'), 'utf8')) as ProgressRecord;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'taesd-video-cli-'));
    const g = loadVideoGolden('taew2_1_rand_t3');
    weights = g.weightsFile;
    latent = join(tmp, 'wan.safetensors');
    writeFileSync(latent, encodeSafetensors({ latent: { dtype: 'F32', shape: g.latent.shape, data: g.latent.data } }));
    // The same values as a ComfyUI .latent file: raw VAE space.
    writeFileSync(join(tmp, 'wan.latent'), encodeSafetensors({
      latent_tensor: { dtype: 'F32', shape: g.latent.shape, data: g.latent.data },
      latent_format_version_0: { dtype: 'F32', shape: [1], data: new Float32Array(1) },
    }));
  });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  it('writes animated PNG steps, linear first, then TAEHV, and says so per step', () => {
    const r = cli('progress', latent, latent, latent, '--model', 'taew2_1', '--weights', weights, '--job-id', 'wan', '--format', 'png', '--budget-ms', '600000', '--fps', '24');
    expect(r.stderr).toMatch(/taew2_1 previews: linear, then TAEHV on native within 600000 ms a step/);
    expect(r.status).toBe(0);
    const rec = record('wan');
    expect(rec.status).toBe('completed');
    expect(rec.step_videos!.map((v) => [v.made_with!.decoder, v.made_with!.scale, v.made_with!.time_scale, v.frame_count])).toEqual([['linear', 1, 1, 3], ['taew2_1', 1 / 8, 1 / 4, 3], ['taew2_1', 1, 1, 9]]);
    expect(rec.video).toMatchObject({ fps: 24, frame_count: 9 });
    expect(upngFrames(new Uint8Array(readFileSync(join(tmp, 'progress', 'wan', 'latest.png')))).delays).toEqual(Array(9).fill(42)); // round(1000 / 24)
  });

  it('--backend linear needs no weights; JPEG steps are contact sheets', () => {
    const r = cli('progress', latent, '--model', 'taew2_1', '--backend', 'linear', '--job-id', 'lin');
    expect(r.status).toBe(0);
    expect(record('lin').video).toMatchObject({ layout: 'sheet', frame_count: 3, columns: 2, rows: 2, frame_stride: 4, made_with: { decoder: 'linear' } });
  });

  it('a ComfyUI .latent video (raw VAE values) is mapped with Wan 2.1\'s latents_mean/std first', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const file = join(tmp, 'wan.latent');
    const r = cli('progress', file, '--model', 'taew2_1', '--backend', 'linear', '--format', 'png', '--job-id', 'vae');
    expect(r.status).toBe(0);
    const expected = await createLinearVideoDecoder({ model: 'taew2_1' }).decodeVideo({ data: g.latent.data, shape: g.latent.shape }, { latentSpace: 'vae' });
    const got = upngFrames(new Uint8Array(readFileSync(join(tmp, 'progress', 'vae', 'latest.png')))).frames;
    expect(got.length).toBe(3);
    got.forEach((f, t) => expect(Buffer.from(f).equals(Buffer.from(expected[t]!.data))).toBe(true));
  });

  it('decode maps VAE-space video latents (a ComfyUI .latent, or --latent-space vae) for model-space TAEHV weights', () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const mapped = videoVaeToModel({ data: g.latent.data, shape: g.latent.shape }, VIDEO_FAMILIES.Wan21);
    writeFileSync(join(tmp, 'mapped.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: g.latent.shape, data: mapped.data as Float32Array } }));
    const out = (name: string, ...args: string[]) => {
      const r = cli('decode', ...args, '--model', 'taew2_1', '--weights', weights, '--out', `${name}.safetensors`);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(tmp, `${name}.safetensors`));
    };
    const reference = out('ref', 'mapped.safetensors');
    expect(out('fromLatent', 'wan.latent').equals(reference)).toBe(true);
    expect(out('fromFlag', 'wan.safetensors', '--latent-space', 'vae').equals(reference)).toBe(true);
  });

  it('refuses --budget-ms for an image model and options a video job does not take, before writing anything', () => {
    expect(cli('progress', latent, '--model', 'taesd', '--job-id', 'x', '--budget-ms', '5').stderr).toMatch(/--budget-ms is for the video models/);
    expect(cli('progress', latent, '--model', 'taesd', '--job-id', 'x', '--fps', '5').stderr).toMatch(/--fps is for the video models/);
    const r = cli('progress', latent, '--model', 'taew2_1', '--job-id', 'y', '--scale', '0.5');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--scale and --batch are for image models/);
    expect(cli('progress', latent, '--model', 'taecvx', '--backend', 'linear', '--job-id', 'z').stderr).toMatch(/no linear preview/);
  });
});
if (!HAS_SHARED) describe.skip(NO_SHARED_REASON, () => { it('needs ../shared', () => undefined); });
