// The video rows of the benchmark (issues 21 and 22): taew2_1 (Wan 2.1) on a 30x52 latent (240x416
// frames) with 5 and 21 latent frames, full and preview settings (timeScale 1/4, scale 1/2), on
// taesd-web native and WASM, a bare onnxruntime-node session on the exported stage graphs, and
// upstream's taehv.py on PyTorch; each run in a process of its own, for its peak RSS. Writes
// <out>/<machine>-video.{json,md,svg}. Random taew2_1 weights cost what the real ones cost.
//   node dist/bench/video.js [--quick] [--frames 5,21] [--settings full,preview] [--only webgpu-f32,native,wasm,ort-bare,torch:cpu-fp32] [--hw 30,52]
//        [--weights f.pth] [--taehv-py taehv.py] [--python PATH] [--runs N] [--out DIR] [--machine SLUG]
//   child: node dist/bench/video.js --run <webgpu-f32|webgpu-f16|native|wasm|ort-bare> <frames> <full|preview> --weights f [--runs N]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { createVideoDecoder } from '../src/videoDecoder.js';
import { describeMachine } from './machine.js';
import { median, seededLatent } from './latents.js';
import { samplePeakMemory } from './procs.js';
import { runBareVideo } from './videoBare.js';
import { videoMarkdown, videoSvg, type VideoResults, type VideoRow } from './videoReport.js';

const CHANNELS = 16;
const SETTINGS = { full: { scale: 1, timeScale: 1 }, preview: { scale: 1 / 2, timeScale: 1 / 4 } } as const;
type Setting = keyof typeof SETTINGS;
const CONFIGS = ['webgpu-f32', 'webgpu-f16', 'native', 'wasm', 'ort-bare', 'torch:cpu-fp32', 'torch:cuda-fp16'] as const;

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    run: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    frames: { type: 'string' },
    settings: { type: 'string' },
    only: { type: 'string' },
    weights: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/test/taew2_1_randw.pth') },
    'taehv-py': { type: 'string' },
    python: { type: 'string', default: '/usr/bin/python3' },
    runs: { type: 'string' },
    out: { type: 'string', default: join(PACKAGE_ROOT, 'bench/results') },
    machine: { type: 'string' },
    hw: { type: 'string', default: '30,52' },
  },
});
/** The latent's height and width (--hw; 30,52 by default: 240x416 frames; 60,104 is Wan's 480x832). */
const [H, W] = o.hw!.split(',').map(Number) as [number, number];


/** A child stops timing once its timed decodes have taken this long (at least one is timed). */
const CHILD_BUDGET_MS = 30_000;

/** Child: one configuration, one size and setting; one untimed decode, then up to `runs` timed ones (CHILD_BUDGET_MS). */
async function child(config: string, frames: number, setting: Setting, runs: number): Promise<void> {
  const data = seededLatent(CHANNELS * frames * H * W), shape = [1, CHANNELS, frames, H, W];
  const weights = readFileSync(o.weights!);
  const times: number[] = [];
  const more = (i: number) => i <= runs && (i < 2 || times.reduce((a, b) => a + b, 0) < CHILD_BUDGET_MS);
  let out = { frames: 0, width: 0, height: 0 };
  if (config === 'ort-bare') {
    for (let i = 0; more(i); i++) {
      const r = await runBareVideo(weights, data, frames, H, W, SETTINGS[setting]);
      if (i) times.push(r.ms);
      out = r.out;
    }
  } else {
    const [backend, precision] = config.split('-') as ['native' | 'wasm' | 'webgpu', 'f32' | 'f16' | undefined];
    const decoder = await createVideoDecoder({ weights, model: 'taew2_1', backend, ...(precision && { webgpu: { precision } }) });
    for (let i = 0; more(i); i++) {
      const t0 = performance.now();
      const f = await decoder.decodeVideoRaw({ data, shape }, SETTINGS[setting]);
      if (i) times.push(performance.now() - t0);
      out = { frames: f.length, width: f[0]!.width, height: f[0]!.height };
    }
    decoder.destroy();
  }
  console.log(JSON.stringify({ ms: median(times), runs: times.length, ...out }));
  process.exit(0);
}

if (o.run) {
  const [config, frames, setting] = positionals as [string, string, Setting];
  await child(config, Number(frames), setting, Number(o.runs ?? 2));
}

const quick = o.quick!;
const framesList = (o.frames ?? (quick ? '5' : '5,21')).split(',').map(Number);
const only = o.only?.split(',') ?? null;
const settingsList = (o.settings?.split(',') ?? ['full', 'preview']).filter((x): x is Setting => x in SETTINGS);
const runs = Number(o.runs ?? (quick ? 1 : 3));
if (!(Number.isInteger(runs) && runs >= 1)) {
  console.error(`bench/video: --runs must be an integer >= 1, got ${o.runs}`);
  process.exit(2);
}
const machine = describeMachine(o.machine);
const here = fileURLToPath(import.meta.url);

function torchProbe(): { cuda: boolean } | string {
  if (!o['taehv-py'] || !existsSync(o['taehv-py'])) return "no upstream taehv.py (--taehv-py: github.com/madebyollin/taehv's taehv.py at 1f14a56, fetched at run time)";
  try {
    return { cuda: execFileSync(o.python!, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8', timeout: 120_000 }).trim() === 'True' };
  } catch {
    return `no PyTorch in ${o.python}`;
  }
}

/** Runs one row in a process of its own, sampling its peak RSS (the kernel's high-water mark). */
function measure(config: string, frames: number, setting: Setting): Promise<VideoRow> {
  const [cmd, args] = config.startsWith('torch:')
    ? [o.python!, [join(PACKAGE_ROOT, 'bench/taehv_time.py'), o['taehv-py']!, o.weights!, String(frames), `${H},${W}`, setting, ...config.slice(6).split('-'), String(runs)]]
    : [process.execPath, [here, '--run', config, String(frames), setting, '--weights', o.weights!, '--runs', String(runs), '--hw', o.hw!]];
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const rss = samplePeakMemory(p.pid!, { highWater: true });
    let stdout = '', stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
    p.on('close', (code) => {
      const peakRssMiB = rss.stop();
      const line = stdout.split('\n').filter((l) => l.startsWith('{')).at(-1);
      const base = { config, frames, setting, latent: `${frames}x${H}x${W}` };
      if (code !== 0 || !line) return resolve({ ...base, error: stderr.trim().split('\n').at(-1) ?? `exit ${code}` });
      const r = JSON.parse(line) as { ms: number; frames: number; width: number; height: number; note?: string };
      resolve({ ...base, ms: r.ms, outFrames: r.frames, size: `${r.width}x${r.height}`, perFrameMs: r.ms / r.frames, fps: r.frames / (r.ms / 1000), peakRssMiB, ...(r.note && { note: r.note }) });
    });
  });
}

const torch = torchProbe();
const rows: VideoRow[] = [];
// A quick run's files are <slug>-video-quick.* (git-ignored, as the image bench's).
const base = join(o.out!, `${machine.slug}-video${quick ? '-quick' : ''}`);
mkdirSync(o.out!, { recursive: true });
/** Written after every row, so a run stopped from outside (the GPU kit's timeout) leaves what it measured. */
function write(): void {
  const results: VideoResults = { machine, date: new Date().toISOString(), mode: quick ? 'quick' : 'full', runs, weights: o.weights!.split('/').at(-1), rows };
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(`${base}.md`, videoMarkdown(results));
  writeFileSync(`${base}.svg`, videoSvg(results));
}
for (const frames of framesList) {
  for (const setting of settingsList) {
    // --only's order (the GPU kit puts PyTorch CUDA first), else all but CUDA where there is none.
    const configs = only ? only.filter((c) => (CONFIGS as readonly string[]).includes(c)) : CONFIGS.filter((c) => c !== 'torch:cuda-fp16' || (typeof torch === 'object' && torch.cuda));
    for (const config of configs) {
      const what = { config, frames, setting, latent: `${frames}x${H}x${W}` };
      const skip = config.startsWith('torch:') && typeof torch === 'string' ? torch : config === 'torch:cuda-fp16' && typeof torch === 'object' && !torch.cuda ? 'PyTorch sees no CUDA device' : null;
      const row = skip ? { ...what, error: `skipped: ${skip}` } : await measure(config, frames, setting);
      rows.push(row);
      write();
      console.log(`${config.padEnd(16)} ${what.latent} ${setting.padEnd(7)} ${row.error ?? `${row.ms!.toFixed(0)} ms, ${row.outFrames} frames ${row.size}, ${row.perFrameMs!.toFixed(1)} ms/frame, ${row.fps!.toFixed(1)} fps, peak RSS ${row.peakRssMiB?.toFixed(0)} MiB`}`);
    }
  }
}
console.log(`wrote ${base}.{json,md,svg}`);
