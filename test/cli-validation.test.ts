// The CLI's checks before any work (issue #18 item 6, #19 items 2 and 8): the real bin in a child
// process, fixtures written by the test into a temp folder. Every refusal exits 2 naming the
// option, writes nothing and creates no decoder (no "on <backend>" line).
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/cli/options.js';
import { decodePng } from '../src/image/pngDecode.js';
import { encodeSafetensors } from '../src/weights/safetensors.js';
import { npyFile } from './support/hostileFiles.js';
import { randomArray } from './support/random.js';
import { ROOT } from './support/shared.js';

const tmp = mkdtempSync(join(tmpdir(), 'taesd-cli-check-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), ...args], { encoding: 'utf8', cwd: tmp });
const EXAMPLE = join(ROOT, 'examples/astronaut.safetensors');
/** A small TAEF2 latent, `[32,h,w]` or a batch `[n,32,h,w]`. */
const taef2Latent = (shape: number[], seed: number) => ({ dtype: 'F32' as const, shape, data: randomArray(shape.reduce((a, b) => a * b), seed, 1) });
writeFileSync(join(tmp, 'small.safetensors'), encodeSafetensors({ latent: taef2Latent([32, 2, 2], 1) }));

/** The folder's files, recursively, to show that a refusal wrote nothing. */
const snapshot = () => readdirSync(tmp, { recursive: true }).map(String).sort();

describe('options are checked before any work: exit 2, named as typed', () => {
  it.each([
    ['--quality out of range', ['decode', 'small.safetensors', '--model', 'taef2', '--out', 'q.jpg', '--quality', '200'], /^taesd-web: --quality must be an integer 1\.\.100, got "200"\n/],
    ['--quality with PNG output', ['decode', 'small.safetensors', '--model', 'taef2', '--out', 'q.png', '--quality', '50'], /--quality sets JPEG quality, but the output is PNG/],
    ['--quality with --format png (progress)', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--format', 'png', '--quality', '50'], /--quality sets JPEG quality, but the steps are PNG/],
    ['--format that --out contradicts', ['decode', 'small.safetensors', '--model', 'taef2', '--format', 'jpeg', '--out', 'q.png'], /--format jpeg does nothing with --out q\.png/],
    ['an unknown --out extension', ['decode', 'small.safetensors', '--model', 'taef2', '--out', 'q.webp'], /^taesd-web: --out q\.webp: the extension must be/],
    ['--precision on native', ['decode', 'small.safetensors', '--model', 'taef2', '--backend', 'native', '--precision', 'f16', '--out', 'q.png'], /--precision sets WebGPU's arithmetic; --backend native does not use it/],
    ['--scale with --backend linear', ['decode', 'small.safetensors', '--model', 'taef2', '--backend', 'linear', '--scale', '0.5', '--out', 'q.png'], /--scale 0\.5 does nothing with --backend linear/],
    ['--end before --start', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--start', '5', '--end', '2'], /^taesd-web: --end 2 is before --start 5/],
    ['a --job-id that is not a plain name', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', '../up'], /^taesd-web: --job-id "\.\.\/up" is not a plain name.*\[UNSAFE_PATH\]/],
    ['a --prefix that is not a plain name', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--prefix', 'a/b'], /^taesd-web: --prefix "a\/b" is not a plain name/],
    ['--every 0', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--every', '0'], /--every must be an integer 1\.\.100000, got "0"/],
    ['--total below the files given', ['progress', 'small.safetensors', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--total', '1'], /--total 1 is less than the 2 files given/],
    ['--format safetensors for progress', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--format', 'safetensors'], /--format must be one of png, jpeg/],
    ['an unknown --batch', ['progress', 'small.safetensors', '--model', 'taef2', '--job-id', 'j', '--batch', 'all'], /^taesd-web: --batch must be one of first, grid, each, got "all"\n/],
    ['an unknown --format for decode', ['decode', 'small.safetensors', '--model', 'taef2', '--out-dir', 'od2', '--format', 'gif'], /^taesd-web: --format must be one of png, jpeg, safetensors, got "gif"\n/],
    ['an --out-dir that is a file', ['decode', 'small.safetensors', '--model', 'taef2', '--out-dir', 'small.safetensors'], /--out-dir small\.safetensors is a file, not a folder/],
    ['an empty --out-dir', ['decode', 'small.safetensors', '--model', 'taef2', '--out-dir='], /^taesd-web: --out-dir needs a value\n/],
    ['an unknown --model', ['decode', 'small.safetensors', '--model', 'sd15', '--out', 'q.png'], /--model must be one of taesd, taesdxl/],
    ["another command's option", ['decode', 'small.safetensors', '--model', 'taef2', '--out', 'q.png', '--job-id', 'x'], /^taesd-web: decode takes no --job-id\nRun taesd-web decode --help for usage\.\n$/],
    ['an unknown --timeout', ['fetch-models', 'taesd', '--timeout', 'soon'], /--timeout must be an integer 1\.\.3600/],
  ])('%s', (_name, args, message) => {
    const before = snapshot();
    const r = cli(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/endStep|startStep|jobId|filenamePrefix|saveEveryN/);
    expect(r.stderr).not.toMatch(/ on (native|wasm|webgpu|linear) /);
    expect(snapshot()).toEqual(before);
  });
});

describe('help per command', () => {
  it.each([['decode'], ['progress'], ['fetch-models']])('%s --help lists its own options, one line each, with defaults', (command) => {
    const r = cli(command, '--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^usage: taesd-web ${command} `));
    expect(cli('help', command).stdout).toBe(r.stdout);
    for (const [name, spec] of Object.entries(OPTIONS)) {
      const listed = new RegExp(`^  (-., )?--${name}\\b`, 'm').test(r.stdout);
      expect(listed, `${command} --help and --${name}`).toBe((spec.commands as readonly string[]).includes(command));
    }
    expect(r.stdout.split('\n').every((line) => line.length <= 100)).toBe(true);
  });

  it('states defaults: decode --backend auto, progress --format jpeg and --prefix step, fetch-models --timeout 30', () => {
    expect(cli('decode', '-h').stdout).toMatch(/^ {2}--backend auto\|webgpu\|native\|wasm\|linear +where to decode \(default: auto\)$/m);
    const progress = cli('progress', '--help').stdout;
    expect(progress).toMatch(/^ {2}--format jpeg\|png +the step images \(default: jpeg\)$/m);
    expect(progress).toMatch(/^ {2}--prefix <name> +step files are <prefix>_NNNN\.<ext> \(default: step\)$/m);
    expect(cli('fetch-models', '--help').stdout).toMatch(/--timeout <seconds> +give up on a download after this long without data \(default: 30\)/);
  });
});

describe('decode reads the model from the latent file', () => {
  it('decodes examples/astronaut.safetensors without --model: its metadata says taef2', () => {
    const r = cli('decode', EXAMPLE, '--backend', 'native', '--scale', '0.125', '--out', 'meta.png');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^taesd-web: taef2 on native/);
    expect(decodePng(readFileSync(join(tmp, 'meta.png'))).width).toBe(64);
  });

  it('asks for --model when the files disagree, and when none says', () => {
    writeFileSync(join(tmp, 'sd.safetensors'), encodeSafetensors({ latent: { dtype: 'F32', shape: [4, 2, 2], data: randomArray(16, 2, 1) } }, { model: 'taesd' }));
    const both = cli('decode', EXAMPLE, 'sd.safetensors', '--out-dir', 'mixed');
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--model is needed: .*astronaut\.safetensors is for taef2 but sd\.safetensors is for taesd/);
    const none = cli('decode', 'small.safetensors', '--out', 'none.png');
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--model is required/);
  });
});

describe('no output may be an input (issue #19 item 2)', () => {
  const input = join(tmp, 'in/keep.safetensors');
  mkdirSync(join(tmp, 'in'));
  writeFileSync(input, readFileSync(join(tmp, 'small.safetensors')));
  const original = readFileSync(input);
  linkSync(input, join(tmp, 'in/hard.png'));
  symlinkSync(input, join(tmp, 'in/soft.png'));
  mkdirSync(join(tmp, 'via'));
  symlinkSync(join(tmp, 'in'), join(tmp, 'via/in'));

  it.each([
    ['--out the input itself', ['in/keep.safetensors', '--out', 'in/keep.safetensors'], /--out: in\/keep\.safetensors is the input in\/keep\.safetensors;/],
    ['--out the input by another path', ['in/keep.safetensors', '--out', './in/../in/keep.safetensors'], /is the input/],
    ['--out the input through a symlinked folder', ['in/keep.safetensors', '--out', 'via/in/keep.safetensors'], /is the input/],
    ['--out a symlink to the input', ['in/keep.safetensors', '--out', 'in/soft.png'], /in\/soft\.png is the input/],
    ['--out a hard link to the input', ['in/keep.safetensors', '--out', 'in/hard.png'], /in\/hard\.png is the input in\/keep\.safetensors \(a hard link to it\)/],
    ["--out-dir the input's folder with --format safetensors", ['in/keep.safetensors', '--out-dir', 'in', '--format', 'safetensors'], /--out-dir: in\/keep\.safetensors is the input/],
    ["--out-dir the input's folder through a symlink", ['in/keep.safetensors', '--out-dir', 'via/in', '--format', 'safetensors'], /--out-dir: via\/in\/keep\.safetensors is the input/],
  ])('refuses %s, leaving the input untouched', (_name, args, message) => {
    const before = snapshot();
    const r = cli('decode', ...args, '--model', 'taef2', '--backend', 'native');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/ on native /);
    expect(readFileSync(input).equals(original)).toBe(true);
    expect(snapshot()).toEqual(before);
  });

  it('refuses a video decode (TAEHV) whose --out is its input', () => {
    const before = snapshot();
    const r = cli('decode', 'in/keep.safetensors', '--model', 'taew2_1', '--out', 'in/hard.png');
    const same = cli('decode', 'in/keep.safetensors', '--model', 'taew2_1', '--out', 'in/keep.safetensors');
    for (const [res, file] of [[r, 'in/hard.png'], [same, 'in/keep.safetensors']] as const) {
      expect(res.status, res.stderr).toBe(2);
      expect(res.stderr).toContain(`--out: ${file} is the input in/keep.safetensors`);
    }
    expect(readFileSync(input).equals(original)).toBe(true);
    expect(snapshot()).toEqual(before);
  });

  it("still writes beside the input: --out-dir the input's folder as PNG", () => {
    const r = cli('decode', 'in/keep.safetensors', '--out-dir', 'in', '--model', 'taef2', '--backend', 'native');
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(tmp, 'in/keep.png'))).toBe(true);
    expect(readFileSync(input).equals(original)).toBe(true);
  });
});

describe("a batch's _b<k> outputs count in the clash check (issue #19 item 8)", () => {
  mkdirSync(join(tmp, 'batch'));
  const pair = taef2Latent([2, 32, 2, 2], 3);
  writeFileSync(join(tmp, 'batch/a.npy'), npyFile(pair.shape, pair.data));
  writeFileSync(join(tmp, 'batch/a_b1.npy'), npyFile([32, 2, 2], randomArray(128, 4, 1)));
  writeFileSync(join(tmp, 'batch/A_B0.safetensors'), encodeSafetensors({ latent: taef2Latent([32, 2, 2], 5) }));

  it.each([
    ['a.npy (a batch of 2) and a_b1.npy', ['batch/a.npy', 'batch/a_b1.npy'], /--out-dir: batch\/a\.npy and batch\/a_b1\.npy would both be written to od\/a_b1\.png/],
    ['a batch and a name that differs only in case', ['batch/A_B0.safetensors', 'batch/a.npy'], /batch\/A_B0\.safetensors and batch\/a\.npy would both be written to od\/a_b0\.png/],
  ])('refuses %s before writing anything', (_name, inputs, message) => {
    const r = cli('decode', ...inputs, '--model', 'taef2', '--backend', 'native', '--out-dir', 'od');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(tmp, 'od'))).toBe(false);
  });

  it('writes a batch as _b0, _b1 and names those files, which exist', () => {
    const r = cli('decode', 'batch/a.npy', '--model', 'taef2', '--backend', 'native', '--out-dir', 'items');
    expect(r.status, r.stderr).toBe(0);
    const named = /wrote (.*) \(16x16\)/.exec(r.stderr)![1]!.split(', ');
    expect(named).toEqual(['items/a_b0.png', 'items/a_b1.png']);
    for (const file of named) expect(existsSync(join(tmp, file))).toBe(true);
    expect(readdirSync(join(tmp, 'items')).sort()).toEqual(['a_b0.png', 'a_b1.png']);
  });
});
