// The CLI as users call it: the real bin in a subprocess, real files in a temp folder.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/cli/files.js';
import { decodePng } from '../src/image/pngDecode.js';
import { getModel } from '../src/model/registry.js';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { loadGolden, maxLevelDiff, toRgb8, type Golden } from './support/golden.js';
import { npyFile, unalignedSafetensors } from './support/hostileFiles.js';
import { randomArray, randomStateDict } from './support/random.js';
import { maxAbsDiff } from './support/reference.js';
import { golden, HAS_SHARED, ROOT } from './support/shared.js';

const BIN = join(ROOT, 'bin/taesd-web.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: tmp });
const tmp = mkdtempSync(join(tmpdir(), 'taesd-cli-'));
const EXAMPLE = join(ROOT, 'examples/astronaut.safetensors');
const EXAMPLE_STEPS = readdirSync(join(ROOT, 'examples/steps')).sort().map((f) => join(ROOT, 'examples/steps', f));
// ../shared's 8x8 golden, for the tests that are skipped without ../shared.
let g: Golden;
beforeAll(() => {
  if (HAS_SHARED) g = loadGolden('taef2_rand_8x8');
});

function npy(shape: number[], data: Float32Array): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')},), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 255, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

describe('taesd-web decode', () => {
  it.skipIf(!HAS_SHARED)('decodes a golden latent to a PNG within one level of the reference', () => {
    const r = cli('decode', golden('taef2_rand_8x8'), '--model', 'taef2', '--out', 'out.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/taef2 on (native|wasm|webgpu)/);
    const png = decodePng(readFileSync(join(tmp, 'out.png')));
    expect([png.width, png.height]).toEqual([64, 64]);
    expect(maxLevelDiff(png.data, toRgb8(g.image.data, 64 * 64))).toBeLessThanOrEqual(1);
  });

  it.skipIf(!HAS_SHARED)('writes the raw float output as tensor "image" [3,H,W] with --out x.safetensors, from an .npy latent', () => {
    writeFileSync(join(tmp, 'latent.npy'), npy([1, 32, 8, 8], g.latent.data));
    const r = cli('decode', 'latent.npy', '--model', 'taef2', '--backend', 'webgpu', '--precision', 'f32', '--out', 'raw.safetensors');
    expect(r.status, r.stderr).toBe(0);
    const image = parseSafetensors(readFileSync(join(tmp, 'raw.safetensors'))).tensors.get('image')!;
    expect(image.shape).toEqual([3, 64, 64]);
    expect(maxAbsDiff(image.data, g.image.data)).toBeLessThan(2e-3);
  });

  it('reads ComfyUI .latent files as VAE-space latents: (x - shift) * scale before decoding', () => {
    const model = getModel('taesd3');
    const dict = randomStateDict(model, 4);
    const weights = Object.fromEntries([...dict].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]));
    writeFileSync(join(tmp, 'taesd3_random.safetensors'), encodeSafetensors(weights));
    const raw = randomArray(16 * 3 * 4, 11, 1);
    const latent_format_version_0 = { dtype: 'F32' as const, shape: [0], data: new Float32Array(0) };
    writeFileSync(join(tmp, 'x.latent'), encodeSafetensors({ latent_tensor: { dtype: 'F32', shape: [1, 16, 3, 4], data: raw }, latent_format_version_0 }));
    const mapped = raw.map((v) => (v - model.latent.shiftFactor) * model.latent.scaleFactor);
    writeFileSync(join(tmp, 'mapped.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [16, 3, 4], data: mapped } }));
    const common = ['--model', 'taesd3', '--weights', 'taesd3_random.safetensors', '--backend', 'wasm'];
    expect(cli('decode', 'x.latent', ...common, '--out', 'a.safetensors').status).toBe(0);
    expect(cli('decode', 'mapped.safetensors', ...common, '--out', 'b.safetensors').status).toBe(0);
    const a = parseSafetensors(readFileSync(join(tmp, 'a.safetensors'))).tensors.get('image')!;
    const b = parseSafetensors(readFileSync(join(tmp, 'b.safetensors'))).tensors.get('image')!;
    expect(maxAbsDiff(a.data, b.data)).toBeLessThan(1e-5);
  });

  it.skipIf(!HAS_SHARED)('decodes several inputs into --out-dir, reporting each', () => {
    const r = cli('decode', golden('taef2_rand_8x8'), golden('taef2_rand_5x7'), '--model', 'taef2', '--out-dir', 'many', '--format', 'jpeg');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(tmp, 'many')).sort()).toEqual(['taef2_rand_5x7.jpg', 'taef2_rand_8x8.jpg']);
    expect(r.stderr).toMatch(/\[2\/2\]/);
  });

  it.skipIf(!HAS_SHARED)('decodes every file of an --out-dir batch, latents whose data is not 4-byte aligned too (issue #12, item 5)', () => {
    writeFileSync(join(tmp, 'odd-npy.npy'), npyFile([1, 32, 8, 8], g.latent.data, 1));
    writeFileSync(join(tmp, 'odd-st.safetensors'), unalignedSafetensors(g.latent.data, [32, 8, 8]));
    const r = cli('decode', 'odd-npy.npy', 'odd-st.safetensors', golden('taef2_rand_8x8'), '--model', 'taef2', '--backend', 'linear', '--out-dir', 'odd', '--format', 'png');
    expect(r.status, r.stderr).toBe(0);
    const png = (name: string) => readFileSync(join(tmp, 'odd', name));
    expect(png('odd-npy.png').equals(png('taef2_rand_8x8.png'))).toBe(true);
    expect(png('odd-st.png').equals(png('taef2_rand_8x8.png'))).toBe(true);
  });

  it('writes outputs through no symlink planted at a temp name (issue #12, item 9)', async () => {
    const victim = join(tmp, 'victim.txt');
    writeFileSync(victim, 'keep');
    const out = join(tmp, 'planted.png');
    symlinkSync(victim, `${out}.${process.pid}.tmp`); // the temp name writeFileAtomic used to use
    symlinkSync(victim, out); // a link at the output itself is replaced, not written through
    await writeFileAtomic(out, Uint8Array.of(1, 2, 3));
    expect(readFileSync(victim, 'utf8')).toBe('keep');
    expect(lstatSync(out).isSymbolicLink()).toBe(false);
    expect([...readFileSync(out)]).toEqual([1, 2, 3]);
    expect(readdirSync(tmp).filter((f) => f.startsWith('.taesd-'))).toEqual([]);
  });

  it.skipIf(!HAS_SHARED)('writes the latent-resolution linear preview with --backend linear', () => {
    const r = cli('decode', golden('taef2_rand_8x8'), '--model', 'taef2', '--backend', 'linear', '--out', 'linear.png');
    expect(r.status, r.stderr).toBe(0);
    expect(decodePng(readFileSync(join(tmp, 'linear.png'))).width).toBe(8);
  });

  it.each([
    ['a wrong channel count', ['decode', 'mapped.safetensors', '--model', 'taef2', '--out', 'bad1.png'], 1, /LATENT_CHANNELS.*16 channels/],
    ['an unknown model', ['decode', EXAMPLE, '--model', 'sdxl', '--out', 'bad2.png'], 2, /--model must be one of taesd, .*got "sdxl"/],
    ['weights of another model', ['decode', EXAMPLE, '--model', 'taesd', '--weights', 'taesd3_random.safetensors', '--out', 'bad3.png'], 1, /MODEL_MISMATCH/],
    ['a missing latent file', ['decode', 'nope.safetensors', '--model', 'taef2', '--out', 'bad4.png'], 1, /IO.*nope\.safetensors/],
    ['no --out', ['decode', EXAMPLE, '--model', 'taef2'], 2, /--out/],
    ['an unknown option', ['decode', EXAMPLE, '--model', 'taef2', '--out', 'bad5.png', '--colour'], 2, /^taesd-web: unknown option --colour\nRun taesd-web decode --help for usage\.\n$/],
    ['an option without its value', ['decode', EXAMPLE, '--out', 'bad7.png', '--model'], 2, /^taesd-web: --model needs a value\n/],
    ['a value for a flag', ['decode', EXAMPLE, '--model', 'taef2', '--out', 'bad8.png', '--example=yes'], 2, /^taesd-web: --example takes no value\n/],
    ['--example with latent files', ['decode', EXAMPLE, '--example', '--out', 'bad9.png'], 2, /give it or latent files, not both/],
    ['an unsupported output', ['decode', EXAMPLE, '--model', 'taef2', '--out', 'bad6.gif'], 2, /--out bad6\.gif: the extension must be \.png, \.jpg/],
  ])('fails clearly on %s, writing nothing', (_name, args, status, message) => {
    const before = readdirSync(tmp).sort();
    const r = cli(...args);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(tmp).sort()).toEqual(before);
  });

  it('prints usage with --help', () => {
    const r = cli('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/taesd-web decode \(<latent-file\.\.\.> \| --example\) \(--out <file> \| --out-dir <dir>\)/);
    expect(existsSync(BIN)).toBe(true);
  });

  it('prints the package version with --version and -v', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
    for (const flag of ['--version', '-v']) expect(cli(flag)).toMatchObject({ status: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('decodes the shipped example with the shipped weights: --example, no --model', () => {
    const r = cli('decode', '--example', '--out', 'example.png');
    expect(r.status, r.stderr).toBe(0);
    const png = decodePng(readFileSync(join(tmp, 'example.png')));
    expect([png.width, png.height]).toEqual([512, 512]);
    if (!HAS_SHARED) return;
    // The example is the astronaut golden's latent stored as f16: the image barely moves.
    const want = toRgb8(loadGolden('taef2_astronaut').image.data, 512 * 512);
    let sum = 0;
    for (let i = 0; i < want.length; i++) sum += Math.abs(png.data[4 * (i / 3 | 0) + i % 3]! - want[i]!);
    expect(sum / want.length).toBeLessThan(0.5);
  });
});

describe('taesd-web progress', () => {
  it.skipIf(!HAS_SHARED)('writes the job folder for a run of latent files, with filters and base64', () => {
    // A sampler-like run: step i's x0 blends from noise into the golden latent.
    const steps = 4;
    const noise = randomArray(32 * 8 * 8, 21, 1);
    const files = Array.from({ length: steps }, (_, i) => {
      const t = i / (steps - 1);
      const data = g.latent.data.map((v, k) => (1 - t) * noise[k]! + t * v);
      const name = `s${i}.safetensors`;
      writeFileSync(join(tmp, name), encodeSafetensors({ latent: { dtype: 'F32', shape: [32, 8, 8], data } }));
      return name;
    });
    const r = cli('progress', ...files, '--model', 'taef2', '--job-id', 'run1', '--root', 'jobs', '--format', 'png', '--every', '2', '--base64');
    expect(r.status, r.stderr).toBe(0);
    const dir = join(tmp, 'jobs/progress/run1');
    expect(readdirSync(dir).sort()).toEqual(['latest.png', 'progress.json', 'step_0000.png', 'step_0002.png', 'step_final.png']);
    const p = JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8'));
    expect(p).toMatchObject({ job_id: 'run1', status: 'completed', current_step: steps, total_steps: steps, progress_percent: 100, latest_image: 'step_final.png' });
    expect(typeof p.timestamp).toBe('number');
    // the final image is the last step, decoded: the golden latent itself
    const final = decodePng(readFileSync(join(dir, 'step_final.png')));
    expect(maxLevelDiff(final.data, toRgb8(g.image.data, 64 * 64))).toBeLessThanOrEqual(1);
    expect(Buffer.from(p.image_base64, 'base64')).toEqual(readFileSync(join(dir, 'step_final.png')));
  });

  it('writes the job folder for the shipped example run with --example', () => {
    const r = cli('progress', '--example', '--job-id', 'example', '--root', 'jobs4');
    expect(r.status, r.stderr).toBe(0);
    const dir = join(tmp, 'jobs4/progress/example');
    const names = EXAMPLE_STEPS.map((_, i) => `step_${String(i).padStart(4, '0')}.jpeg`);
    expect(readdirSync(dir).sort()).toEqual(['latest.jpeg', 'progress.json', ...names, 'step_final.jpeg']);
    expect(JSON.parse(readFileSync(join(dir, 'progress.json'), 'utf8'))).toMatchObject({ status: 'completed', total_steps: EXAMPLE_STEPS.length });
  });

  it('refuses VAE-space steps when the model is only guessed from shapes (SD vs SDXL), writing nothing', () => {
    const dict = randomStateDict(getModel('taesd'), 8);
    writeFileSync(join(tmp, 'unnamed_weights.safetensors'), encodeSafetensors(Object.fromEntries([...dict].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]))));
    writeFileSync(join(tmp, 'sd_step.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [4, 3, 3], data: randomArray(36, 2, 1) } }));
    const before = readdirSync(tmp).sort();
    const r = cli('progress', 'sd_step.safetensors', '--weights', 'unnamed_weights.safetensors', '--latent-space', 'vae', '--backend', 'linear', '--job-id', 'guess', '--root', 'jobs3');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/BAD_OPTION.*scale and shift/);
    expect(readdirSync(tmp).sort()).toEqual(before);
  });

  it.each([
    ['a NaN', 'LATENT_NON_FINITE', { dtype: 'F32' as const, shape: [32, 4, 4], data: new Float32Array(512).fill(NaN, 100, 101) }],
    ['16 channels', 'LATENT_CHANNELS', { dtype: 'F32' as const, shape: [16, 4, 4], data: new Float32Array(256) }],
  ])('refuses a step holding %s before the job folder is touched', (what, code, latent) => {
    writeFileSync(join(tmp, 'good_step.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [32, 4, 4], data: new Float32Array(512) } }));
    writeFileSync(join(tmp, 'bad_step.safetensors'), encodeSafetensors({ latent }));
    const r = cli('progress', 'good_step.safetensors', 'bad_step.safetensors', '--model', 'taef2', '--backend', 'linear', '--job-id', 'bad', '--root', 'jobs5');
    expect(r.status, what).toBe(1);
    expect(r.stderr).toContain(code);
    expect(existsSync(join(tmp, 'jobs5'))).toBe(false);
  });

  it.each([
    ['a job id that escapes the root', ['--job-id', '../escape'], /UNSAFE_PATH/],
    ['an output folder given as an absolute path', ['--job-id', 'ok', '--output-folder', '/tmp'], /UNSAFE_PATH/],
    ['no job id', [], /--job-id/],
  ])('refuses %s and writes nothing', (_name, extra, message) => {
    const before = readdirSync(tmp).sort();
    const r = cli('progress', ...EXAMPLE_STEPS, '--model', 'taef2', '--root', 'jobs2', ...extra);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(readdirSync(tmp).sort()).toEqual(before);
  });
});

describe('a taesd latent in VAE space, with random weights', () => {
  const model = getModel('taesd');
  const dict = randomStateDict(model, 5);
  const weights = Object.fromEntries([...dict].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]));
  writeFileSync(join(tmp, 'taesd_random.safetensors'), encodeSafetensors(weights));
  // Raw SD VAE latents have a standard deviation of about 1 / scaleFactor.
  const raw = randomArray(4 * 6 * 5, 31, 1 / model.latent.scaleFactor);
  writeFileSync(join(tmp, 'vae.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [1, 4, 6, 5], data: raw } }));
  const common = ['--model', 'taesd', '--weights', 'taesd_random.safetensors', '--backend', 'wasm', '--latent-space', 'vae'];

  it('decode and progress map --latent-space vae once: the same pixels, and the raw output agrees', () => {
    const png = cli('decode', 'vae.safetensors', ...common, '--out', 'vae.png');
    expect(png.status, png.stderr).toBe(0);
    const rawOut = cli('decode', 'vae.safetensors', ...common, '--out', 'vae_raw.safetensors');
    expect(rawOut.status, rawOut.stderr).toBe(0);
    const progress = cli('progress', 'vae.safetensors', ...common, '--job-id', 'vae', '--root', 'jobs3', '--format', 'png');
    expect(progress.status, progress.stderr).toBe(0);
    const decoded = decodePng(readFileSync(join(tmp, 'vae.png')));
    const final = decodePng(readFileSync(join(tmp, 'jobs3/progress/vae/step_final.png')));
    expect([final.width, final.height]).toEqual([40, 48]);
    expect(Buffer.from(final.data).equals(Buffer.from(decoded.data))).toBe(true);
    const image = parseSafetensors(readFileSync(join(tmp, 'vae_raw.safetensors'))).tensors.get('image')!;
    expect(maxLevelDiff(decoded.data, toRgb8(image.data, 40 * 48))).toBeLessThanOrEqual(1);
  });

  it("shows none of Dawn's native limit notices on a WebGPU decode: stderr is only our own lines", () => {
    const r = cli('decode', 'vae.safetensors', ...common.slice(0, 4), '--backend', 'webgpu', '--out', 'gpu.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^taesd-web: taesd on webgpu \(requested\)\ntaesd-web: wrote gpu\.png \(40x48\) in \d+\.\d\d s\n$/);
  });

  it('--backend linear takes --weights without --model, detecting the model from them', () => {
    const r = cli('decode', 'vae.safetensors', '--backend', 'linear', '--weights', 'taesd_random.safetensors', '--out', 'linear_w.png');
    expect(r.status, r.stderr).toBe(0);
    expect(decodePng(readFileSync(join(tmp, 'linear_w.png'))).width).toBe(5);
  });

  it('--out-dir refuses two inputs that would write one file, before writing anything', () => {
    for (const d of ['a', 'b']) mkdirSync(join(tmp, d), { recursive: true });
    writeFileSync(join(tmp, 'a/x.npy'), npy([4, 6, 5], raw));
    writeFileSync(join(tmp, 'b/x.safetensors'), readFileSync(join(tmp, 'vae.safetensors')));
    const r = cli('decode', 'a/x.npy', 'b/x.safetensors', ...common, '--out-dir', 'dup');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--out-dir: a\/x\.npy and b\/x\.safetensors would both be written to dup\/x\.png/);
    expect(existsSync(join(tmp, 'dup'))).toBe(false);
  });
});
