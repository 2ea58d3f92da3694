// The benchmark: every configuration of configs.ts on TAEF2 latents of several sizes, each run in a
// process of its own, round-robin over configurations and rounds (so drift hits all alike), with
// partial decodes in the first rounds; writes bench/results/<machine>.{json,md,svg}.
//   npm run bench [-- --quick] [--sizes 16,32] [--rounds N] [--only ID,...] [--exclude ID,...]
//                 [--out DIR] [--machine SLUG] [--max-decode-s S] [--budget-ms MS] [--time-limit-min M] [--python PATH]
// --only/--exclude take configuration ids (see configs.ts) or places (node, chromium, python).
// --time-limit-min: start no process after M minutes and report what was measured (the GPU run).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { graphFlops, lowerDecoder } from '../src/model/graph.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { findAssets, readFloat32 } from './assets.js';
import { CONFIGS, type BenchConfig } from './configs.js';
import { maxAbsDiff, median, referenceFile, scaleName } from './latents.js';
import { describeMachine } from './machine.js';
import { samplePeakMemory, sampleGpuMemory } from './procs.js';
import { summarize, summaryTable, writeReport, type Results, type TaggedLine } from './report.js';

const USAGE = `npm run bench [-- --quick] [--sizes 16,32] [--rounds N] [--only ID,...] [--exclude ID,...]
              [--out DIR] [--machine SLUG] [--max-decode-s S] [--budget-ms MS] [--time-limit-min M] [--python PATH]
configuration ids: ${CONFIGS.map((c) => c.id).join(', ')} (or places: node, chromium, python)
`;
let parsed;
try {
  parsed = parseArgs({
    options: {
      help: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      sizes: { type: 'string' },
      rounds: { type: 'string' },
      only: { type: 'string' },
      exclude: { type: 'string' },
      out: { type: 'string', default: join(PACKAGE_ROOT, 'bench/results') },
      machine: { type: 'string' },
      'max-decode-s': { type: 'string' },
      python: { type: 'string' },
      'budget-ms': { type: 'string' },
      'time-limit-min': { type: 'string' },
    },
  });
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
const opts = parsed.values;
if (opts.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const quick = opts.quick!;
const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean) ?? null;
const settings = {
  sizes: list(opts.sizes)?.map(Number) ?? (quick ? [16] : [16, 32, 64, 128]),
  rounds: Number(opts.rounds ?? (quick ? 1 : 3)),
  /** Timed decodes per process: at least the first, more until the budget is spent (measure.ts). */
  runs: quick ? [2, 5] : [3, 20],
  budgetMs: Number(opts['budget-ms'] ?? (quick ? 1000 : 4000)),
  /** A configuration is not run at a size where its decode would take longer than this (from the previous size). */
  maxDecodeS: Number(opts['max-decode-s'] ?? (quick ? 5 : 15)),
  /** After its first round, a configuration at a size gets more rounds only while it has spent less than this in all. */
  pairBudgetS: quick ? 30 : 60,
  partialSize: quick ? 16 : 64,
  partialRounds: quick ? 1 : 2,
  stoppedAtTimeLimit: false,
};
/** Past it (--time-limit-min), no more processes start; the report says so. */
const deadline = opts['time-limit-min'] ? Date.now() + Number(opts['time-limit-min']) * 60_000 : Infinity;
/** A process is killed after this, or two minutes past the deadline. */
const childTimeoutS = () => Math.min(quick ? 180 : 900, Math.max(60, (deadline - Date.now()) / 1000 + 120));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const matches = (c: BenchConfig, ids: string[]) => ids.includes(c.id) || ids.includes(c.place);
const only = list(opts.only), exclude = list(opts.exclude) ?? [];
const selected = CONFIGS.filter((c) => (only ? matches(c, only) : !quick || c.quick) && !matches(c, exclude));

const assets = findAssets();
const machine = describeMachine(opts.machine);
const weights = resolveDecoderWeights(parseWeights(readFileSync(assets.weights)));
const gflop = (size: number, skip: number) => graphFlops(lowerDecoder(weights, { skipUpsamples: skip }), size, size) / 1e9;
const dataDir = mkdtempSync(join(tmpdir(), 'taesd-bench-'));
const lines: TaggedLine[] = [];
/** Configurations that cannot run here at all, and why (found before the rounds or on first try). */
const unavailable = new Map<string, string>();

// ---- child processes ----

interface Spawned { lines: TaggedLine[]; code: number | null; stderr: string; peakMiB: number | null; gpuMiB: number | null }

/** Runs a command, collecting the JSON lines it prints; kills its process group after the timeout. */
function run(command: string, args: string[], memory: 'own' | 'high-water'): Promise<Spawned> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: PACKAGE_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const rss = memory === 'high-water' ? samplePeakMemory(child.pid!, { highWater: true }) : null;
    const gpu = machine.gpu ? sampleGpuMemory() : null;
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
    const timeoutS = childTimeoutS();
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutS.toFixed(0)} s)`;
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }, timeoutS * 1000);
    child.on('close', async (code) => {
      clearTimeout(timer);
      const parsed = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as TaggedLine);
      resolve({ lines: parsed, code, stderr, peakMiB: rss?.stop() ?? null, gpuMiB: (await gpu?.stop()) ?? null });
    });
  });
}

/** The last stderr line that is not one of Dawn's limit notices: why a child died without saying. */
const lastWords = (stderr: string) => stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/artificially reduced/.test(l)).at(-1) ?? 'no output';

/** One configuration at one size (and skip) in a process of its own; its lines join the results. */
async function measureOnce(config: BenchConfig, size: number, skip: number, refOnly = false): Promise<TaggedLine[]> {
  const tag = { config: config.id, size, skip };
  const ref = join(dataDir, referenceFile(size, skip));
  const timing = refOnly ? ['--runs', '0,0'] : ['--runs', settings.runs.join(','), '--budget', String(settings.budgetMs)];
  const checked = !refOnly && existsSync(ref);
  let out: Spawned;
  if (config.place === 'python') {
    const [device, dtype] = config.id.split(':')[1]!.split('-') as [string, string];
    // torch_time.py decodes 3 times untimed, then `runs` times, and prints their median: one sample per process.
    const runs = timeAt(config.id, size) > settings.budgetMs ? 1 : settings.runs[0]!;
    out = await run(python!.path, [assets.torchTime!, assets.pth, String(size), device, dtype, String(runs)], 'high-water');
    out.lines = out.lines.map((l) => ({ ...tag, kind: 'run', ms: l['ms'] as number }));
    if (out.lines.length) out.lines.push({ ...tag, kind: 'note', note: `torch ${python!.version}, CPU threads: ${python!.threads}; median of ${runs} after 3 untimed` });
  } else if (config.place === 'chromium') {
    // The page reads the reference from the server (bench/server.ts serves dataDir).
    const args = [config.id, String(size), '--url', server!.url, '--skip', String(skip), '--timeout', String(Math.round(childTimeoutS() - 30)), ...timing, ...(checked ? ['--ref'] : [])];
    out = await run(process.execPath, [here('./browser.js'), ...args], 'own');
  } else {
    const args = [config.id, String(size), '--skip', String(skip), ...timing, ...(checked ? ['--ref', ref] : []), ...(refOnly ? ['--write-ref', ref] : [])];
    out = await run(process.execPath, [here('./child.js'), ...args], 'own');
  }
  const got: TaggedLine[] = out.lines.map((l) => ({ ...tag, ...l }));
  if (out.peakMiB !== null) got.push({ ...tag, kind: 'memory', peakRssMiB: out.peakMiB });
  if (out.gpuMiB !== null) got.push({ ...tag, kind: 'memory', gpuMemoryMiB: out.gpuMiB });
  const said = got.some((l) => l.kind === 'error' || l.kind === 'skip');
  if (out.code !== 0 && !said) got.push({ ...tag, kind: 'error', message: `exited with ${out.code ?? 'a signal'}: ${lastWords(out.stderr)}` });
  if (!got.some((l) => l.kind === 'run' || l.kind === 'cold' || said)) got.push({ ...tag, kind: 'error', message: `no results: ${lastWords(out.stderr)}` });
  return got;
}

// ---- what can run here ----

interface Python { path: string; version: string; threads: number; cuda: boolean }

function findPython(): Python | string {
  if (!assets.torchTime) return 'torch_time.py not found (../shared/tools or .device/)';
  const probe = 'import json, torch; print(json.dumps([torch.__version__, torch.get_num_threads(), torch.cuda.is_available()]))';
  const candidates = opts.python ? [opts.python] : ['/usr/bin/python3', 'python3'];
  for (const path of candidates) {
    try {
      const [version, threads, cuda] = JSON.parse(execFileSync(path, ['-c', probe], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'ignore'] })) as [string, number, boolean];
      return { path, version, threads, cuda };
    } catch {
      // next
    }
  }
  return `no Python with PyTorch (${candidates.join(', ')}); on Debian: apt-get install python3-torch`;
}

function chromiumMissing(): string | null {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) return `no Chromium at ${chromium} (set CHROMIUM_PATH)`;
  if (!existsSync(join(PACKAGE_ROOT, 'node_modules/@playwright/test')) || !existsSync(join(PACKAGE_ROOT, 'node_modules/vite'))) return 'Playwright or Vite is not installed (npm ci)';
  return null;
}

const found = selected.some((c) => c.place === 'python') ? findPython() : null;
const python = typeof found === 'string' ? null : found;
if (typeof found === 'string') for (const c of selected.filter((x) => x.place === 'python')) unavailable.set(c.id, found);
else if (python && !python.cuda) for (const c of selected.filter((x) => x.id.startsWith('torch:cuda'))) unavailable.set(c.id, `PyTorch ${python.version} sees no CUDA device`);
const noChromium = selected.some((c) => c.place === 'chromium') ? chromiumMissing() : null;
if (noChromium) for (const c of selected.filter((x) => x.place === 'chromium')) unavailable.set(c.id, noChromium);
const server = selected.some((c) => c.place === 'chromium' && !unavailable.has(c.id)) ? await (await import('./server.js')).startBenchServer(dataDir, assets) : null;

function nodeAdapter(): string | null {
  try {
    const out = execFileSync(process.execPath, [here('./child.js'), '--adapter'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const a = (JSON.parse(out.trim().split('\n').at(-1)!) as { adapter: Record<string, unknown> | null }).adapter;
    return a ? `${[a['vendor'], a['architecture'], a['description']].filter(Boolean).join(' ')}; shader-f16 ${a['f16'] ? 'yes' : 'no'}${a['fallback'] ? ' (CPU-emulated)' : ''}` : null;
  } catch {
    return null;
  }
}

// ---- the run ----

const log = (s: string) => console.log(s);
const seconds = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);

/** Median decode time of a configuration at a size so far (full decodes), or null. */
function medianSoFar(id: string, size: number, skip = 0): number | null {
  const runs = lines.filter((l) => l.config === id && l.size === size && l.skip === skip && l.kind === 'run').map((l) => l['ms'] as number);
  return runs.length ? median(runs) : null;
}

/** Why a configuration should not run at this size: unavailable, failed before, or too slow (predicted from a smaller size). */
function reasonToSkip(c: BenchConfig, size: number, skip: number, capped: boolean): string | null {
  if (unavailable.has(c.id)) return unavailable.get(c.id)!;
  const failed = lines.find((l) => l.config === c.id && l.size === size && l.skip === skip && l.kind === 'error');
  if (failed) return `failed before: ${failed['message'] as string}`;
  // The cap decides the first try; later rounds are bounded by settings.pairBudgetS.
  if (!capped || medianSoFar(c.id, size, skip) !== null) return null;
  const known = settings.sizes.filter((s) => s <= size && medianSoFar(c.id, s) !== null);
  if (!known.length) return null;
  const from = Math.max(...known);
  const predicted = timeAt(c.id, size) * (gflop(size, skip) / gflop(size, 0));
  return predicted > settings.maxDecodeS * 1000
    ? `not run: ${seconds(medianSoFar(c.id, from)!)} per full decode at ${from}x${from} predicts ${seconds(predicted)} here (over --max-decode-s ${settings.maxDecodeS})`
    : null;
}

/** Wall time spent per configuration, size and skip, for settings.pairBudgetS. */
const spent = new Map<string, number>();

async function step(c: BenchConfig, size: number, skip: number, round: number, what: string, capped = true): Promise<void> {
  const tag = { config: c.id, size, skip }, key = `${c.id}|${size}|${skip}`;
  const why = reasonToSkip(c, size, skip, capped);
  const name = `${what} ${size}x${size}${skip ? ` at ${scaleName(skip)}` : ''} ${c.id}`.padEnd(44);
  if (why) {
    // Recorded once per configuration and size.
    if (lines.some((l) => l.config === c.id && l.size === size && l.skip === skip)) return;
    lines.push({ ...tag, kind: 'skip', reason: why });
    return log(`${name} skipped: ${why}`);
  }
  if (round > 1 && (spent.get(key) ?? 0) > settings.pairBudgetS * 1000) return log(`${name} enough rounds (${seconds(spent.get(key)!)} spent)`);
  if (Date.now() > deadline) {
    if (!settings.stoppedAtTimeLimit) log(`time limit of ${opts['time-limit-min']} min reached: no more runs`);
    settings.stoppedAtTimeLimit = true;
    return;
  }
  const t0 = Date.now();
  const got = await measureOnce(c, size, skip);
  spent.set(key, (spent.get(key) ?? 0) + Date.now() - t0);
  lines.push(...got);
  const skipped = got.find((l) => l.kind === 'skip');
  if (skipped) unavailable.set(c.id, skipped['reason'] as string);
  const error = got.find((l) => l.kind === 'error'), runs = got.filter((l) => l.kind === 'run').map((l) => l['ms'] as number);
  const cold = got.find((l) => l.kind === 'cold');
  log(`${name} ${skipped ? `skipped: ${skipped['reason'] as string}` : error ? `FAILED: ${error['message'] as string}` : `${seconds(median(runs))} median of ${runs.length}${cold ? `, cold ${seconds((cold['createMs'] as number) + (cold['firstMs'] as number))}` : ''}`}`);
}

/** Writes the reference outputs (first configuration that runs: native, else WASM, else WGSL f32) and checks it against PyTorch's decode. */
async function references(sizes: number[], partial: number[]): Promise<Results['reference']> {
  const astronaut = parseSafetensors(readFileSync(assets.astronaut)).tensors;
  for (const id of ['native', 'wasm-2', 'wgsl-f32']) {
    const c = CONFIGS.find((x) => x.id === id)!;
    const jobs: [number, number][] = [...[...new Set([...sizes, 64])].map((s): [number, number] => [s, 0]), ...partial.map((k): [number, number] => [settings.partialSize, k])];
    let ok = true;
    for (const [size, skip] of jobs) {
      const got = await measureOnce(c, size, skip, true);
      if (!existsSync(join(dataDir, referenceFile(size, skip)))) {
        const why = got.find((l) => l.kind === 'error' || l.kind === 'skip');
        log(`reference ${id} at ${size}x${size}: ${String(why?.['message'] ?? why?.['reason'] ?? 'no output')}`);
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    const ref = readFloat32(join(dataDir, referenceFile(64, 0)));
    const vsPytorch = maxAbsDiff(ref, astronaut.get('image')!.data);
    return { config: id, vsPytorch, note: `${id} itself is within ${vsPytorch.toExponential(1)} of PyTorch's decode of the 64x64 astronaut (the golden file's image)` };
  }
  return { config: null, vsPytorch: null, note: 'no configuration could make reference outputs: outputs not checked' };
}

const started = Date.now();
const adapters = { node: nodeAdapter(), chromium: null as string | null };
log(`taesd-web benchmark (${quick ? 'quick' : 'full'}): ${machine.cpu}, ${machine.cores} cores${machine.gpu ? `, ${machine.gpu}` : ''}; Dawn adapter: ${adapters.node ?? 'none'}`);
log(`configurations: ${selected.map((c) => c.id).join(', ')}; sizes ${settings.sizes.join(', ')}; ${settings.rounds} round(s)`);
const partialSkips = [1, 2, 3];
const reference = await references(settings.sizes, partialSkips);
log(`reference: ${reference.note}`);

/** A configuration's decode time at `size`: measured, else predicted from the largest smaller size it ran (by area). */
function timeAt(id: string, size: number): number {
  const measured = medianSoFar(id, size);
  if (measured !== null) return measured;
  const smaller = settings.sizes.filter((s) => s < size && medianSoFar(id, s) !== null);
  return smaller.length ? medianSoFar(id, Math.max(...smaller))! * (size / Math.max(...smaller)) ** 2 : Infinity;
}

/** Partial decodes run on the faster WGSL precision at the partial size and on native. */
function partialConfigs(): BenchConfig[] {
  const failed = (c: BenchConfig) => lines.some((l) => l.config === c.id && l.size === settings.partialSize && l.skip === 0 && l.kind === 'error');
  const usable = (id: string) => selected.find((c) => c.id === id && !unavailable.has(c.id) && !failed(c));
  const at = (c: BenchConfig) => timeAt(c.id, settings.partialSize);
  const wgsl = [usable('wgsl-f16'), usable('wgsl-f32')].filter((c) => c !== undefined).sort((a, b) => at(a) - at(b))[0];
  return [wgsl, usable('native')].filter((c) => c !== undefined);
}

/** One round of partial decodes. Asked for at this size, so not capped by --max-decode-s; the full decode (skip 0) is the rounds' own where they ran it. */
async function partialDecodes(round: number): Promise<void> {
  for (const c of partialConfigs()) {
    const skips = medianSoFar(c.id, settings.partialSize) === null ? [0, ...partialSkips] : partialSkips;
    for (const skip of skips) await step(c, settings.partialSize, skip, round, `partial ${round}/${settings.partialRounds}`, false);
  }
}

/** The results so far, written out (after every round, so a run killed from outside still leaves them). */
function report(): { results: Results; files: string[] } {
  const a = lines.find((l) => l.kind === 'adapter')?.['adapter'] as Record<string, unknown> | undefined;
  adapters.chromium = a ? `${[a['vendor'], a['architecture'], a['description']].filter(Boolean).join(' ')}; shader-f16 ${a['f16'] ? 'yes' : 'no'}` : null;
  const results: Results = {
    machine, adapters, date: new Date().toISOString(), mode: quick ? 'quick' : 'full',
    settings: { ...settings, minutes: Math.round((Date.now() - started) / 6000) / 10 },
    reference,
    rows: summarize(lines, gflop),
    lines,
  };
  mkdirSync(opts.out!, { recursive: true });
  return { results, files: writeReport(results, opts.out!) };
}

try {
  for (let round = 1; round <= settings.rounds; round++) {
    // Partial decodes come right after their size (before larger sizes eat a time limit), or after the round.
    const partialAfter = settings.sizes.includes(settings.partialSize) ? settings.partialSize : settings.sizes.at(-1);
    for (const size of settings.sizes) {
      for (const c of selected) await step(c, size, 0, round, `round ${round}/${settings.rounds}`);
      if (size === partialAfter && round <= settings.partialRounds) await partialDecodes(round);
    }
    report();
  }
} finally {
  await server?.close();
}

const { results, files } = report();
rmSync(dataDir, { recursive: true, force: true });
log(`\n${summaryTable(results)}\n\nwrote ${files.join(', ')} in ${results.settings['minutes'] as number} min`);
process.exit(0);
