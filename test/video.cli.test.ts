// `taesd-web decode --model <video id>`: animated PNG, frames .safetensors, one file per frame,
// against upstream's goldens, through the built CLI.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { checkpoint, floats, pickledTensor, str } from './support/pickles.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON, ROOT } from './support/shared.js';
import { loadVideoGolden } from './support/videoGolden.js';

const BIN = join(ROOT, 'bin/taesd-web.js');
const tmp = mkdtempSync(join(tmpdir(), 'taesd-video-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp });

/** The golden's latent as a latent file; returns its path. */
function latentFile(name: string): string {
  const g = loadVideoGolden(name);
  const path = join(tmp, `${name}.safetensors`);
  writeFileSync(path, encodeSafetensors({ latent: { dtype: 'F32', shape: [...g.latent.shape], data: g.latent.data } }));
  return path;
}

/** Frames in an (A)PNG: acTL's frame count, or 1 for a plain PNG. */
function pngFrames(bytes: Uint8Array): number {
  const at = Buffer.from(bytes).indexOf('acTL');
  return at < 0 ? 1 : new DataView(bytes.buffer, bytes.byteOffset).getUint32(at + 4);
}

describe.skipIf(!HAS_SHARED)('taesd-web decode, video models', () => {
  const weights = (name: string) => loadVideoGolden(name).weightsFile;

  it('--out .safetensors: image [T,3,H,W] in [0,1] equal to upstream (2e-3); also at --scale 1/2 --time-scale 1/4', () => {
    for (const [name, extra] of [['taew2_1_rand_t3', []], ['taew2_1_rand_t3_notime_half', ['--scale', '1/2', '--time-scale', '0.25']]] as const) {
      const out = join(tmp, `${name}.out.safetensors`);
      const r = cli('decode', latentFile(name), '--model', 'taew2_1', '--weights', weights(name), '--backend', 'native', '--chunk', '1', ...extra, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const image = parseSafetensors(readFileSync(out)).tensors.get('image')!;
      const g = loadVideoGolden(name);
      expect(image.shape).toEqual(g.image.shape);
      expect(maxAbsDiff(image.data, g.image.data)).toBeLessThan(2e-3);
    }
  });

  it('--backend webgpu --precision f32 | f16: equal to upstream (f32 2e-3; f16 within 3 levels); --precision with native is refused', () => {
    const name = 'taew2_2_rand_t2', g = loadVideoGolden(name);
    for (const [precision, tolerance] of [['f32', 2e-3], ['f16', 3 / 255]] as const) {
      const out = join(tmp, `${name}.${precision}.safetensors`);
      const r = cli('decode', latentFile(name), '--model', 'taew2_2', '--weights', weights(name), '--backend', 'webgpu', '--precision', precision, '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/taew2_2 on webgpu/);
      const image = parseSafetensors(readFileSync(out)).tensors.get('image')!;
      expect(image.shape).toEqual(g.image.shape);
      expect(maxAbsDiff(image.data, g.image.data)).toBeLessThan(tolerance);
    }
    const r = cli('decode', latentFile(name), '--model', 'taew2_2', '--weights', weights(name), '--backend', 'native', '--precision', 'f16', '--out', join(tmp, 'no.safetensors'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--precision sets WebGPU's arithmetic; --backend native does not use it/);
  });

  it('without --model, weights named as upstream publishes them (taecvx.pth) pick the video model and its frame rule; other TAEHV weights say so', () => {
    const named = join(tmp, 'taecvx.pth');
    copyFileSync(weights('taecvx_rand_t2'), named);
    const out = join(tmp, 'byname.safetensors');
    const r = cli('decode', latentFile('taecvx_rand_t2'), '--weights', named, '--backend', 'native', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('taecvx on native');
    const image = parseSafetensors(readFileSync(out)).tensors.get('image')!;
    expect(image.shape).toEqual(loadVideoGolden('taecvx_rand_t2').image.shape);
    expect(maxAbsDiff(image.data, loadVideoGolden('taecvx_rand_t2').image.data)).toBeLessThan(2e-3);
    const unnamed = join(tmp, 'mystery.pth');
    copyFileSync(weights('taecvx_rand_t2'), unnamed);
    const other = cli('decode', latentFile('taecvx_rand_t2'), '--weights', unnamed, '--out', join(tmp, 'mystery.safetensors'));
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('TAEHV video decoder weights: give a video model id');
  });

  it('--out .png: an animated PNG of every frame (one frame: a plain PNG); --out-dir: one file per frame', () => {
    const apng = join(tmp, 'preview.png');
    expect(cli('decode', latentFile('taeh3_rand_t6'), '--model', 'taeh3', '--weights', weights('taeh3_rand_t6'), '--fps', '24', '--out', apng).status).toBe(0);
    expect(pngFrames(readFileSync(apng))).toBe(22);
    const still = join(tmp, 'still.png');
    expect(cli('decode', latentFile('taew2_1_rand_t1'), '--model', 'taew2_1', '--weights', weights('taew2_1_rand_t1'), '--out', still).status).toBe(0);
    expect(pngFrames(readFileSync(still))).toBe(1);
    const dir = join(tmp, 'frames');
    const r = cli('decode', latentFile('taecvx_rand_t2'), '--model', 'taecvx', '--weights', weights('taecvx_rand_t2'), '--out-dir', dir);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `taecvx_rand_t2_f000${i}.png`));
  });

  it('reads a .pth latent (torch.save of the tensor itself, as taehv\'s examples are saved)', () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const t = { key: 'x', storage: '0', numel: g.latent.data.length, offset: 0, shape: [...g.latent.shape], stride: g.latent.shape.map((_, i) => g.latent.shape.slice(i + 1).reduce((a, b) => a * b, 1)) };
    const bare = Uint8Array.from([0x80, 2, ...pickledTensor(t).slice(str(t.key).length), 0x2e]);
    const path = join(tmp, 'latents.pth');
    writeFileSync(path, checkpoint(bare, { 0: floats([...g.latent.data]) }));
    const out = join(tmp, 'pth.safetensors');
    const r = cli('decode', path, '--model', 'taew2_1', '--weights', g.weightsFile, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    expect(maxAbsDiff(parseSafetensors(readFileSync(out)).tensors.get('image')!.data, g.image.data)).toBeLessThan(2e-3);
  });

  it('fetch-models knows the TAEHV files and checks their git blob ids (a random-weight file is refused)', () => {
    const from = join(tmp, 'from');
    mkdirSync(from, { recursive: true });
    copyFileSync(weights('taew2_1_rand_t3'), join(from, 'taew2_1.pth'));
    const r = cli('fetch-models', 'taew2_1', '--from', from, '--dir', join(tmp, 'cache'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('expected d6ffa27358914606153bbb790bd1da1c5cf822fd');
  });

  it('refuses video options for an image model, and bad values, before decoding', () => {
    const r = cli('decode', 'x.safetensors', '--model', 'taef2', '--time-scale', '0.5', '--out', 'x.png');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--time-scale is for the video models');
    const bad = cli('decode', latentFile('taew2_1_rand_t3'), '--model', 'taew2_1', '--weights', weights('taew2_1_rand_t3'), '--out', join(tmp, 'x.jpg'));
    expect(bad.status).toBe(2);
    const wrong = cli('decode', latentFile('taew2_2_rand_t2'), '--model', 'taew2_1', '--weights', weights('taew2_1_rand_t3'), '--out', join(tmp, 'y.png'));
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('[LATENT_CHANNELS]');
    const ntchw = join(tmp, 'ntchw.safetensors');
    writeFileSync(ntchw, encodeSafetensors({ latent: { dtype: 'F32', shape: [1, 3, 16, 2, 2], data: new Float32Array(192) } }));
    const upstreamOrder = cli('decode', ntchw, '--model', 'taew2_1', '--weights', weights('taew2_1_rand_t3'), '--out', join(tmp, 'z.safetensors'));
    expect(upstreamOrder.status).toBe(1);
    expect(upstreamOrder.stderr).toContain("upstream taehv's NTCHW order");
  });
});
describe.skipIf(HAS_SHARED)('taesd-web decode, video models', () => it.skip(NO_SHARED_REASON, () => undefined));
