// The benchmark's results from the lines its processes printed: per configuration and latent size,
// median and p90, cold start, GFLOP/s, the ratio to taesd-web's best, memory and the output check;
// written as JSON, a Markdown table and an SVG chart (GFLOP/s, log scale).
//   node dist/bench/report.js bench/results/<machine>.json    (re-summarizes a .json's lines, re-writes all three)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIGS, configById, type Group, type Place } from './configs.js';
import { median, quantile, scaleName } from './latents.js';
import type { Machine } from './machine.js';

/** A line as a child printed it, tagged with what it measured. */
export interface TaggedLine {
  readonly config: string;
  readonly size: number;
  readonly skip: number;
  readonly kind: string;
  readonly [field: string]: unknown;
}

export interface Row {
  readonly config: string;
  readonly label: string;
  readonly place: Place;
  readonly group: Group;
  readonly size: number;
  /** Upsamples skipped (partial decode): the output is 2^-skip of the full size. */
  readonly skip: number;
  /** One decode's convolution work; null for the linear preview. */
  readonly gflop: number | null;
  readonly status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or failed (also set when only some rounds failed). */
  readonly reason: string | null;
  readonly runs: number;
  readonly medianMs: number | null;
  readonly p90Ms: number | null;
  /** Median over rounds of create + first decode, and the two parts. */
  readonly coldMs: number | null;
  readonly createMs: number | null;
  readonly firstMs: number | null;
  readonly gflops: number | null;
  /** medianMs / the best taesd-web median at this size (full decodes only). */
  readonly ratio: number | null;
  /** Median GPU time per decode (timestamp queries), where measured. */
  readonly gpuMs: number | null;
  readonly peakRssMiB: number | null;
  readonly rssOf: string | null;
  /** Peak bytes of live WebGPU buffers; nvidia-smi's device memory delta where there is one. */
  readonly gpuBuffersMiB: number | null;
  readonly gpuMemoryMiB: number | null;
  readonly maxAbsDiff: number | null;
  readonly note: string | null;
}

export interface Results {
  readonly machine: Machine;
  /** Dawn's adapter in Node and the page's in Chromium, as `vendor architecture description`. */
  readonly adapters: { readonly node: string | null; readonly chromium: string | null };
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly settings: Record<string, unknown>;
  /** The configuration whose outputs the others were checked against, and its own check against PyTorch's decode. */
  readonly reference: { readonly config: string | null; readonly vsPytorch: number | null; readonly note: string };
  readonly rows: readonly Row[];
  readonly lines: readonly TaggedLine[];
}

const nums = (lines: readonly TaggedLine[], kind: string, field: string): number[] =>
  lines.filter((l) => l.kind === kind && typeof l[field] === 'number').map((l) => l[field] as number);
const maxOf = (xs: number[]): number | null => (xs.length ? Math.max(...xs) : null);
const medianOf = (xs: number[]): number | null => (xs.length ? median(xs) : null);
const lastText = (lines: readonly TaggedLine[], kind: string, field: string): string | null =>
  (lines.filter((l) => l.kind === kind).at(-1)?.[field] as string | undefined) ?? null;

/** One row per configuration, size and skip that anything was printed for. */
export function summarize(lines: readonly TaggedLine[], gflop: (size: number, skip: number) => number): Row[] {
  const groups = new Map<string, TaggedLine[]>();
  for (const l of lines) {
    const key = `${l.config}|${l.size}|${l.skip}`;
    groups.set(key, [...(groups.get(key) ?? []), l]);
  }
  const rows = [...groups.values()].map((ls): Omit<Row, 'ratio'> => {
    const { config: id, size, skip } = ls[0]!;
    const config = configById(id);
    const runs = nums(ls, 'run', 'ms');
    const created = nums(ls, 'cold', 'createMs'), first = nums(ls, 'cold', 'firstMs');
    const flop = config.id === 'linear' ? null : gflop(size, skip);
    const medianMs = medianOf(runs);
    const error = lastText(ls, 'error', 'message'), skipped = lastText(ls, 'skip', 'reason');
    return {
      config: id, label: config.label, place: config.place, group: config.group, size, skip, gflop: flop,
      status: runs.length ? 'ok' : error ? 'failed' : 'skipped',
      // A size skipped in one round (predicted too slow) may run in a later one: then only errors count.
      reason: error ?? (runs.length ? null : skipped),
      runs: runs.length,
      medianMs,
      p90Ms: runs.length ? quantile(runs, 0.9) : null,
      coldMs: medianOf(created.map((c, i) => c + (first[i] ?? 0))),
      createMs: medianOf(created),
      firstMs: medianOf(first),
      gflops: flop !== null && medianMs !== null ? flop / (medianMs / 1000) : null,
      gpuMs: medianOf(nums(ls, 'run', 'gpuMs')),
      peakRssMiB: maxOf(nums(ls, 'memory', 'peakRssMiB')),
      rssOf: lastText(ls, 'memory', 'rssOf'),
      gpuBuffersMiB: maxOf(nums(ls, 'memory', 'gpuBuffersMiB')),
      gpuMemoryMiB: maxOf(nums(ls, 'memory', 'gpuMemoryMiB')),
      maxAbsDiff: maxOf(nums(ls, 'check', 'maxAbsDiff')),
      note: lastText(ls, 'note', 'note'),
    };
  });
  const best = (size: number) => Math.min(...rows.filter((r) => r.group === 'taesd-web' && r.size === size && r.skip === 0 && r.medianMs !== null).map((r) => r.medianMs!));
  const order = (r: Omit<Row, 'ratio'>) => CONFIGS.findIndex((c) => c.id === r.config);
  return rows
    .map((r) => ({ ...r, ratio: r.skip === 0 && r.medianMs !== null && Number.isFinite(best(r.size)) ? r.medianMs / best(r.size) : null }))
    .sort((a, b) => order(a) - order(b) || a.size - b.size || a.skip - b.skip);
}

// ---- Markdown ----

const fmt = (x: number | null, digits = 0): string => (x === null ? '-' : x.toFixed(digits));
/** Milliseconds with about three significant digits. */
const ms = (x: number | null): string => (x === null ? '-' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const gflops = (x: number | null): string => (x === null ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const sizeName = (n: number): string => `${n}x${n}`;

function adapterLine(r: Results): string {
  const { node, chromium } = r.adapters;
  return `WebGPU adapter in Node (Dawn): ${node ?? 'none'}; in Chromium: ${chromium ?? 'not run'}`;
}

/** The summary table: one row per configuration, one column per latent size. */
export function summaryTable(r: Results): string {
  const full = r.rows.filter((x) => x.skip === 0);
  const sizes = [...new Set(full.map((x) => x.size))].sort((a, b) => a - b);
  const configs = [...new Set(full.map((x) => x.config))];
  const out = [
    `| backend | ${sizes.map(sizeName).join(' | ')} |`,
    `| --- |${sizes.map(() => ' ---: |').join('')}`,
  ];
  for (const id of configs) {
    const cells = sizes.map((s) => {
      const x = full.find((y) => y.config === id && y.size === s);
      if (!x || x.status !== 'ok') return x?.status === 'failed' ? 'failed' : '-';
      const ratio = x.ratio === null ? '' : ` · ${x.ratio.toFixed(2)}x`;
      return `${ms(x.medianMs)} ms · ${gflops(x.gflops)}${ratio}`;
    });
    if (cells.every((c) => c === '-')) continue;
    out.push(`| ${cell(configById(id).label)} | ${cells.join(' | ')} |`);
  }
  return out.join('\n');
}

function detailTable(r: Results): string {
  const out = [
    '| backend | latent | runs | median ms | p90 ms | cold ms (create + first) | GFLOP/s | x best | GPU ms | peak RSS MiB | GPU buffers MiB | max abs diff | note |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const x of r.rows.filter((y) => y.skip === 0 && y.status === 'ok')) {
    const cold = x.coldMs === null ? '-' : `${ms(x.coldMs)} (${ms(x.createMs)} + ${ms(x.firstMs)})`;
    const gpuMem = x.gpuMemoryMiB !== null ? `${fmt(x.gpuBuffersMiB)} (device ${fmt(x.gpuMemoryMiB)})` : fmt(x.gpuBuffersMiB);
    const note = [x.note, x.reason && `some rounds failed: ${x.reason}`].filter(Boolean).join('; ');
    out.push(`| ${cell(x.label)} | ${sizeName(x.size)} | ${x.runs} | ${ms(x.medianMs)} | ${ms(x.p90Ms)} | ${cold} | ${gflops(x.gflops)} | ${x.ratio === null ? '-' : x.ratio.toFixed(2)} | ${ms(x.gpuMs)} | ${fmt(x.peakRssMiB)} | ${gpuMem} | ${x.maxAbsDiff === null ? '-' : x.maxAbsDiff.toExponential(1)} | ${cell(note)} |`);
  }
  return out.join('\n');
}

function partialTable(r: Results): string | null {
  const withSkips = new Set(r.rows.filter((x) => x.skip > 0).map((x) => `${x.config}|${x.size}`));
  const rows = r.rows.filter((x) => withSkips.has(`${x.config}|${x.size}`));
  if (!rows.length) return null;
  const out = [
    '| backend | latent | scale | output | GFLOP | median ms | p90 ms | GFLOP/s | time vs full decode | max abs diff |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const x of rows) {
    const full = rows.find((y) => y.config === x.config && y.size === x.size && y.skip === 0);
    const side = (x.size * 8) >> x.skip;
    const vs = full?.medianMs && x.medianMs !== null ? `${(x.medianMs / full.medianMs).toFixed(3)}` : '-';
    const time = x.status === 'ok' ? `${ms(x.medianMs)} | ${ms(x.p90Ms)} | ${gflops(x.gflops)} | ${vs}` : `${x.status}: ${cell(x.reason ?? '')} | - | - | -`;
    out.push(`| ${cell(x.label)} | ${sizeName(x.size)} | ${scaleName(x.skip)} | ${side}x${side} | ${fmt(x.gflop, 1)} | ${time} | ${x.maxAbsDiff === null ? '-' : x.maxAbsDiff.toExponential(1)} |`);
  }
  return out.join('\n');
}

function notRun(r: Results): string | null {
  const missing = r.rows.filter((x) => x.status !== 'ok');
  if (!missing.length) return null;
  // One line per configuration and reason, listing the sizes.
  const byReason = new Map<string, { label: string; status: string; what: string[] }>();
  for (const x of missing) {
    const key = `${x.config}|${x.status}|${x.reason}`;
    const what = x.skip ? `${sizeName(x.size)} at ${scaleName(x.skip)}` : sizeName(x.size);
    const entry = byReason.get(key) ?? { label: x.label, status: x.status, what: [] };
    entry.what.push(what);
    byReason.set(key, entry);
  }
  return [...byReason.entries()].map(([key, e]) => `- ${e.label} (${e.what.join(', ')}): ${e.status}: ${key.split('|').slice(2).join('|')}`).join('\n');
}

export function markdown(r: Results): string {
  const m = r.machine;
  const settings = Object.entries(r.settings).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') : String(v)}`).join(', ');
  const ref = r.reference;
  return [
    `# taesd-web benchmark: ${m.slug}`,
    '',
    `${r.mode === 'quick' ? 'Quick' : 'Full'} run, ${r.date.slice(0, 16).replace('T', ' ')} UTC. ${m.cpu}, ${m.cores} cores (${m.vector}), ${m.memoryGiB} GiB${m.gpu ? `; GPU: ${m.gpu}` : ''}; Node ${m.node}, ${m.os}.`,
    `${adapterLine(r)}.`,
    `Settings: ${settings}. TAEF2 decoder, latents cut from (or tiled from) the 64x64 astronaut latent. Every configuration runs in a`,
    'process of its own (a fresh Chromium for browser rows), round-robin over configurations and rounds.',
    `Outputs checked against ${ref.config ?? 'nothing'} before timing (2e-3 max abs diff, f16 1e-2); ${ref.note}.`,
    '',
    '## Summary',
    '',
    'Each cell: median time per decode · GFLOP/s · time relative to the fastest taesd-web backend at that size (1.00x = the best).',
    'taesd-web rows time `decode()` (8-bit RGBA out); bare onnxruntime rows time `session.run` (float out); PyTorch rows time its forward pass (torch_time.py).',
    '',
    summaryTable(r),
    '',
    '## Details',
    '',
    'Cold: a fresh process from the weights file (or URL) to the first decode, including session creation or pipeline compilation.',
    'GPU ms: timestamp queries around the decode\'s compute passes. Peak RSS: the child process (for Chromium, all its processes and the Playwright driver together).',
    'GPU buffers: the peak of live WebGPU buffers the configuration allocated.',
    '',
    detailTable(r),
    ...(partialTable(r) ? ['', '## Partial decodes (`decode(latent, { scale })`)', '', 'GFLOP from `graphFlops(lowerDecoder(w, { skipUpsamples }))`.', '', partialTable(r)!] : []),
    ...(notRun(r) ? ['', '## Not run', '', notRun(r)!] : []),
    '',
  ].join('\n');
}

// ---- SVG ----

const SIZE_COLORS = ['#9ecae1', '#4292c6', '#08519c', '#08306b'];
const GROUP_COLORS: Record<Group, string> = { 'taesd-web': '#d94801', onnxruntime: '#525252', pytorch: '#6a51a3', preview: '#238b45' };
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars, one group per configuration, one bar per latent size; GFLOP/s on a log axis. */
export function svgChart(r: Results): string {
  const rows = r.rows.filter((x) => x.skip === 0 && x.gflops !== null && x.gflops > 0);
  const sizes = [...new Set(rows.map((x) => x.size))].sort((a, b) => a - b);
  const configs = [...new Set(rows.map((x) => x.config))];
  const values = rows.map((x) => x.gflops!);
  const lo = Math.floor(Math.log10(Math.min(...values))), hi = Math.ceil(Math.log10(Math.max(...values)));
  const labelW = 400, plotW = 520, bar = 11, gap = 12, top = 74, left = labelW + 10;
  const groupH = sizes.length * bar + gap;
  const height = top + configs.length * groupH + 40;
  const x = (v: number) => left + ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${left + plotW + 70}" height="${height}" viewBox="0 0 ${left + plotW + 70} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">taesd-web benchmark, ${esc(r.machine.slug)}: GFLOP/s per backend (TAEF2 decoder, log scale; higher is faster)</text>`,
    `<text x="12" y="40" fill="#555">${esc(`${r.machine.cpu}, ${r.machine.cores} cores${r.machine.gpu ? `; ${r.machine.gpu.split(',')[0]}` : ''}; ${r.mode} run, ${r.date.slice(0, 10)}`)}</text>`,
  ];
  sizes.forEach((s, i) => {
    const lx = left + i * 110;
    out.push(`<rect x="${lx}" y="50" width="12" height="12" fill="${SIZE_COLORS[i % SIZE_COLORS.length]}"/><text x="${lx + 16}" y="60">${s}x${s} latent</text>`);
  });
  const groups = [...new Set(configs.map((id) => configById(id).group))];
  groups.forEach((g, i) => out.push(`<text x="${labelW - (groups.length - 1 - i) * 90}" y="60" text-anchor="end" fill="${GROUP_COLORS[g]}">${g}</text>`));
  for (let d = lo; d <= hi; d++) {
    const gx = x(10 ** d);
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 30}" stroke="#ddd"/>`, `<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#555">${10 ** d >= 1 ? 10 ** d : (10 ** d).toFixed(-d)}</text>`);
  }
  configs.forEach((id, g) => {
    const c = configById(id);
    const y0 = top + g * groupH;
    out.push(`<text x="${labelW}" y="${y0 + (sizes.length * bar) / 2 + 4}" text-anchor="end" fill="${GROUP_COLORS[c.group]}">${esc(c.label)}</text>`);
    sizes.forEach((s, i) => {
      const row = rows.find((y) => y.config === id && y.size === s);
      const y = y0 + i * bar;
      if (!row) {
        const missing = r.rows.find((m) => m.config === id && m.size === s && m.skip === 0);
        const failed = missing?.status === 'failed';
        out.push(`<text x="${left + 4}" y="${y + bar - 3}" font-size="10" fill="${failed ? '#cb181d' : '#999'}">${failed ? 'failed its check' : 'not run'}</text>`);
        return;
      }
      out.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(row.gflops!) - left).toFixed(1)}" height="${bar - 2}" fill="${SIZE_COLORS[i % SIZE_COLORS.length]}"><title>${esc(`${c.label}, ${s}x${s}: ${gflops(row.gflops)} GFLOP/s, ${ms(row.medianMs)} ms`)}</title></rect>`);
      out.push(`<text x="${(x(row.gflops!) + 4).toFixed(1)}" y="${y + bar - 3}" font-size="10" fill="#333">${gflops(row.gflops)}</text>`);
    });
  });
  out.push(`<text x="${left + plotW / 2}" y="${height - 2}" text-anchor="middle" fill="#555">GFLOP/s (graphFlops / median time)</text>`, '</svg>', '');
  return out.join('\n');
}

/** The results as JSON with one row and one line per text line (readable diffs; an eighth of the lines pretty-printing takes). */
function toJson(r: Results): string {
  const { rows, lines, ...head } = r;
  const list = (xs: readonly object[]) => `[\n${xs.map((x) => `  ${JSON.stringify(x)}`).join(',\n')}\n ]`;
  return `${JSON.stringify(head, null, 1).slice(0, -2)},\n "rows": ${list(rows)},\n "lines": ${list(lines)}\n}\n`;
}

/** Writes <slug>.json, .md and .svg into `dir` (<slug>-quick.* for a quick run, git-ignored); returns their paths. */
export function writeReport(r: Results, dir: string): string[] {
  const base = join(dir, r.mode === 'quick' ? `${r.machine.slug}-quick` : r.machine.slug);
  writeFileSync(`${base}.json`, toJson(r));
  writeFileSync(`${base}.md`, markdown(r));
  writeFileSync(`${base}.svg`, svgChart(r));
  return [`${base}.json`, `${base}.md`, `${base}.svg`];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: node dist/bench/report.js bench/results/<machine>.json');
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Results;
  // Rows again from the raw lines (this file's summary may be older), with the FLOPs the saved rows hold.
  const gflop = (size: number, skip: number) => saved.rows.find((r) => r.size === size && r.skip === skip && r.gflop !== null)?.gflop ?? NaN;
  console.log(writeReport({ ...saved, rows: summarize(saved.lines, gflop) }, join(file, '..')).join('\n'));
}
