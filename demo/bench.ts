// The browser benchmark page (bench.html): one latent on taesd-web's WGSL kernels, onnxruntime-web's
// webgpu execution provider and its wasm backend (the same ONNX graph), and the linear preview.
// Shows a table and puts the results on window.taesdBench for bench/browser.ts.
import { createDecoder, type LatentDecoder, type RawImage } from 'taesd-web';
// Below the public API: onnxruntime-web's own webgpu provider, the adapter check and the FLOP count.
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { isFallbackAdapter } from '../src/gpu/device.js';
import { graphFlops, lowerDecoder } from '../src/model/graph.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { goldenUrl, loadLatentFile, loadWeights, ORT_WASM_PATHS, TAEF2_WEIGHTS_URL, type Golden } from './assets.js';

export interface BenchRow {
  readonly decoder: string;
  /** Decoder creation: weights upload / ort session start (the first ort one also loads ort). */
  readonly createMs: number | null;
  /** First decodeRaw (pipeline compilation, session warm-up). */
  readonly firstMs: number | null;
  /** Median of the warm decodeRaw calls. */
  readonly medianMs: number | null;
  /** decodeFlops / median; null for the linear preview (no convolutions). */
  readonly gflops: number | null;
  /** max |raw - WGSL raw| (null without a WGSL result). */
  readonly maxAbsDiff: number | null;
  readonly note: string;
  /** Set when this decoder failed; the other fields are then null. */
  readonly error?: string;
}

export interface BenchReport {
  /** Golden name, with `@N` for a centre NxN crop. */
  readonly latent: string;
  /** [C, h, w] as decoded. */
  readonly shape: readonly number[];
  readonly repeats: number;
  readonly gflop: number;
  readonly adapter: string;
  readonly crossOriginIsolated: boolean;
  readonly hardwareConcurrency: number;
  readonly userAgent: string;
  /** max |WGSL raw - the golden's reference output|; null when cropped or the file has none. */
  readonly wgslVsReference: number | null;
  /** What createDecoder({ backend: 'auto' }) picks here, and why. */
  readonly auto: { readonly backend: string; readonly reason: string; readonly createMs: number } | { readonly error: string };
  readonly rows: readonly BenchRow[];
}

export type BenchState =
  | { readonly status: 'running' }
  | { readonly status: 'done'; readonly report: BenchReport }
  | { readonly status: 'error'; readonly error: string };

declare global {
  interface Window {
    taesdBench: BenchState;
  }
}

type Latent = Golden['latent'];

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The centre n x n of a [C, H, W] latent. */
function centreCrop(latent: Latent, n: number): Latent {
  const [c, h, w] = latent.shape as [number, number, number];
  if (latent.shape.length !== 3 || !Number.isInteger(n) || n < 1 || n > Math.min(h, w)) {
    throw new Error(`crop=${n}: needs an integer in 1..${Math.min(h, w)} and a [C,H,W] latent (got [${latent.shape.join(',')}])`);
  }
  const y0 = (h - n) >> 1, x0 = (w - n) >> 1;
  const data = new Float32Array(c * n * n);
  for (let k = 0; k < c; k++) for (let y = 0; y < n; y++) {
    const from = (k * h + y0 + y) * w + x0;
    data.set(latent.data.subarray(from, from + n), (k * n + y) * n);
  }
  return { data, shape: [c, n, n] };
}

async function adapterName(): Promise<string> {
  const adapter = 'gpu' in navigator ? await navigator.gpu.requestAdapter() : null;
  if (!adapter) return 'none (no WebGPU)';
  const { vendor, architecture, description } = adapter.info;
  return `${[vendor, architecture, description].filter(Boolean).join(' ') || 'unnamed'}${isFallbackAdapter(adapter.info) ? ' (CPU-emulated)' : ''}`;
}

/** Creates a decoder, decodes once cold and `repeats` times warm, and destroys it. */
async function measure(
  name: string,
  create: () => Promise<LatentDecoder>,
  latent: Latent,
  repeats: number,
  flops: number | null,
  note: (d: LatentDecoder) => string,
  reference: RawImage | null,
): Promise<{ row: BenchRow; raw: RawImage | null }> {
  let decoder: LatentDecoder | null = null;
  try {
    const t0 = performance.now();
    decoder = await create();
    const t1 = performance.now();
    let raw = await decoder.decodeRaw(latent);
    const firstMs = performance.now() - t1;
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      raw = await decoder.decodeRaw(latent);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const medianMs = times[times.length >> 1] ?? firstMs;
    const row: BenchRow = {
      decoder: name,
      createMs: t1 - t0,
      firstMs,
      medianMs,
      gflops: flops === null ? null : flops / medianMs / 1e6,
      maxAbsDiff: reference ? maxAbsDiff(raw.data, reference.data) : null,
      note: note(decoder),
    };
    return { row, raw };
  } catch (e) {
    const row: BenchRow = { decoder: name, createMs: null, firstMs: null, medianMs: null, gflops: null, maxAbsDiff: null, note: '', error: message(e) };
    return { row, raw: null };
  } finally {
    decoder?.destroy();
  }
}

async function run(): Promise<BenchReport> {
  const params = new URLSearchParams(location.search);
  const crop = params.has('crop') ? Number(params.get('crop')) : null;
  const name = params.get('latent') ?? (crop !== null ? 'taef2_astronaut' : 'taef2_rand_8x8');
  const repeats = Number(params.get('repeats') ?? 3);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`repeats must be an integer >= 1, got ${params.get('repeats')}`);

  const [weights, golden] = await Promise.all([loadWeights(TAEF2_WEIGHTS_URL), loadLatentFile(goldenUrl(name))]);
  const latent = crop !== null ? centreCrop(golden.latent, crop) : golden.latent;
  const resolved = resolveDecoderWeights(weights);
  const model = resolved.model;
  const [, h, w] = latent.shape as [number, number, number];
  const flops = graphFlops(lowerDecoder(resolved), h, w);
  const status = document.getElementById('status')!;
  const rows: BenchRow[] = [];
  const step = async (label: string, create: () => Promise<LatentDecoder>, note: (d: LatentDecoder) => string, reference: RawImage | null, withFlops = true) => {
    status.textContent = `running: ${label}…`;
    const { row, raw } = await measure(label, create, latent, repeats, withFlops ? flops : null, note, reference);
    rows.push(row);
    return raw;
  };
  const ort = (executionProvider: 'wasm' | 'webgpu') => createWasmDecoder(resolveDecoderWeights(weights), { wasmPaths: ORT_WASM_PATHS, executionProvider });
  const threads = (d: LatentDecoder) => `${'numThreads' in d ? String(d.numThreads) : '?'} threads`;

  const wgsl = await step('taesd-web WGSL (f32)', () => createDecoder({ weights, backend: 'webgpu', precision: 'f32' }), () => 'reference for the diff column', null);
  await step('linear preview (x8 nearest)', () => createDecoder({ model: 'taef2', backend: 'linear', linearUpscale: 8 }), () => 'latent-to-RGB approximation; not expected to match', wgsl, false);
  await step('onnxruntime-web webgpu EP', () => ort('webgpu'), () => 'create includes loading onnxruntime-web (first ort session in the page)', wgsl);
  await step('onnxruntime-web wasm', () => ort('wasm'), threads, wgsl);

  status.textContent = 'running: auto…';
  let auto: BenchReport['auto'];
  try {
    const t0 = performance.now();
    const d = await createDecoder({ weights, backend: 'auto', wasm: { wasmPaths: ORT_WASM_PATHS } });
    auto = { backend: d.backend, reason: d.backendReason, createMs: performance.now() - t0 };
    d.destroy();
  } catch (e) {
    auto = { error: message(e) };
  }

  return {
    latent: crop !== null ? `${name}@${crop}` : name,
    shape: latent.shape,
    repeats,
    gflop: flops / 1e9,
    adapter: await adapterName(),
    crossOriginIsolated: globalThis.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency,
    userAgent: navigator.userAgent,
    wgslVsReference: crop === null && golden.image && wgsl ? maxAbsDiff(wgsl.data, golden.image.data) : null,
    auto,
    rows,
  };
}

const fmtMs = (ms: number | null): string => (ms === null ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(0));
const fmtNum = (x: number | null, digits: number): string => (x === null ? '-' : x.toFixed(digits));
const fmtDiff = (x: number | null): string => (x === null ? '-' : x.toExponential(1));

function show(report: BenchReport): void {
  const auto = 'error' in report.auto ? `failed: ${report.auto.error}` : `${report.auto.backend} (${report.auto.reason})`;
  const ref = report.wgslVsReference === null ? '' : `; WGSL vs the golden's reference output: ${fmtDiff(report.wgslVsReference)}`;
  document.getElementById('env')!.textContent =
    `${report.latent} [${report.shape.join(',')}], ${report.gflop.toFixed(2)} GFLOP, ${report.repeats} warm decodes; adapter: ${report.adapter}; ` +
    `cross-origin isolated: ${report.crossOriginIsolated}, ${report.hardwareConcurrency} cores; auto picks ${auto}${ref}`;
  const table = document.getElementById('results') as HTMLTableElement;
  const head = ['decoder', 'create (ms)', 'first decode (ms)', 'median (ms)', 'GFLOP/s', 'max |diff| vs WGSL', 'note'];
  table.createTHead().insertRow().append(...head.map((h) => Object.assign(document.createElement('th'), { textContent: h })));
  const body = table.createTBody();
  for (const r of report.rows) {
    const cells = [r.decoder, fmtMs(r.createMs), fmtMs(r.firstMs), fmtMs(r.medianMs), fmtNum(r.gflops, 2), fmtDiff(r.maxAbsDiff), r.error ? `failed: ${r.error}` : r.note];
    const tr = body.insertRow();
    cells.forEach((text, i) => Object.assign(tr.insertCell(), { textContent: text, className: i >= 1 && i <= 5 ? 'num' : '' }));
  }
  table.hidden = false;
}

window.taesdBench = { status: 'running' };
run().then(
  (report) => {
    show(report);
    document.getElementById('status')!.textContent = 'done';
    window.taesdBench = { status: 'done', report };
  },
  (e: unknown) => {
    document.getElementById('status')!.textContent = `failed: ${message(e)}`;
    window.taesdBench = { status: 'error', error: message(e) };
  },
);
