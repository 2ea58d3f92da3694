// The taesd-web demo: pick a backend and a model, decode a latent, or play a simulated sampler run
// that draws every step live with `decodeToCanvas`. No framework: one decoder, one canvas, a few
// event handlers. Run it with `npx vite` from the repository root (see vite.config.ts).
import { createDecoder, isTaesdError, type BackendChoice, type Decoder, type LatentInput } from 'taesd-web';
import { loadLatentFile, loadWeights, ORT_WASM_PATHS, TAEF2_WEIGHTS_URL, goldenUrl } from './assets.js';

/** The latent the demo shows: a real photo encoded by the TAEF2 encoder, 32 x 64 x 64. */
const ASTRONAUT_URL = goldenUrl('taef2_astronaut');

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

const ui = {
  backend: $<HTMLSelectElement>('backend'),
  model: $<HTMLSelectElement>('model'),
  weightsUrlLabel: $<HTMLLabelElement>('weights-url-label'),
  weightsUrl: $<HTMLInputElement>('weights-url'),
  size: $<HTMLSelectElement>('size'),
  steps: $<HTMLInputElement>('steps'),
  decode: $<HTMLButtonElement>('decode'),
  simulate: $<HTMLButtonElement>('simulate'),
  stop: $<HTMLButtonElement>('stop'),
  view: $<HTMLDivElement>('view'),
  status: $<HTMLElement>('status'),
  step: $<HTMLElement>('step'),
  ms: $<HTMLElement>('ms'),
  chosen: $<HTMLElement>('chosen'),
  reason: $<HTMLElement>('reason'),
  output: $<HTMLElement>('output'),
};

type State = 'loading' | 'ready' | 'busy' | 'done' | 'stopped' | 'error';

function setStatus(state: State, text: string): void {
  ui.status.dataset.state = state;
  ui.status.textContent = text;
}

// ---------------------------------------------------------------------------------------------
// The decoder. A canvas keeps the first context it is asked for ('webgpu' or '2d'), so each new
// decoder, and each backend change (a lost GPU device moves the decoder to WASM), gets a fresh
// canvas.

let canvas = $<HTMLCanvasElement>('canvas');
let decoder: Decoder | null = null;
let decoderKey = '';

function freshCanvas(): HTMLCanvasElement {
  const next = document.createElement('canvas');
  next.id = 'canvas';
  next.width = canvas.width;
  next.height = canvas.height;
  canvas.replaceWith(next);
  canvas = next;
  return next;
}

function weightsUrl(): string | null {
  if (ui.model.value === 'taef2') return TAEF2_WEIGHTS_URL;
  const url = ui.weightsUrl.value.trim();
  return url === '' ? null : url;
}

/** The decoder for the current choices; made again only when backend or weights change. */
async function currentDecoder(): Promise<Decoder> {
  const backend = ui.backend.value as BackendChoice;
  const url = weightsUrl();
  if (url === null) throw new Error('enter a weights URL, or pick the local taef2 model');
  const key = `${backend} ${url}`;
  if (decoder && decoderKey === key) return decoder;

  decoder?.destroy();
  decoder = null;
  setStatus('busy', backend === 'linear' ? 'preparing the linear preview…' : `loading weights and starting ${backend}…`);
  const made = await createDecoder({
    // The linear preview needs no weights: only the model family's RGB factors.
    ...(backend === 'linear' && url === TAEF2_WEIGHTS_URL ? { model: 'taef2' } : { weights: await loadWeights(url) }),
    backend,
    wasm: { wasmPaths: ORT_WASM_PATHS },
  });
  made.onBackendChange((change) => {
    console.warn(`taesd-web: backend ${change.from} -> ${change.to}: ${change.reason}`);
    freshCanvas();
    showBackend(made);
  });
  decoder = made;
  decoderKey = key;
  freshCanvas();
  showBackend(made);
  return made;
}

function showBackend(d: Decoder): void {
  ui.chosen.textContent = `${d.backend} (${d.model.id}, ${d.model.latent.id})`;
  ui.reason.textContent = d.backendReason;
}

// ---------------------------------------------------------------------------------------------
// Latents.

let astronaut: Promise<LatentInput & { data: Float32Array }> | null = null;

function loadAstronaut(): Promise<LatentInput & { data: Float32Array }> {
  astronaut ??= loadLatentFile(ASTRONAUT_URL).then((g) => g.latent);
  astronaut.catch(() => (astronaut = null));
  return astronaut;
}

/** The centre `side x side` window of a [C, h, w] latent. */
function centreCrop(latent: LatentInput & { data: Float32Array }, side: number): LatentInput & { data: Float32Array } {
  const [c, h, w] = latent.shape as [number, number, number];
  if (side >= h && side >= w) return latent;
  const y0 = Math.floor((h - side) / 2), x0 = Math.floor((w - side) / 2);
  const out = new Float32Array(c * side * side);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < side; y++) {
      const from = (ch * h + y0 + y) * w + x0;
      out.set(latent.data.subarray(from, from + side), (ch * side + y) * side);
    }
  return { data: out, shape: [c, side, side] };
}

/** Standard normal noise from a fixed seed (mulberry32 + Box-Muller), so every run looks the same. */
function gaussianNoise(n: number, seed = 42): Float32Array {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - uniform())), a = 2 * Math.PI * uniform();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}

/** lerp(noise, target, t), written into `out`: a sampler's x0 estimate converging as t goes 0 -> 1. */
function blend(noise: Float32Array, target: Float32Array, t: number, out: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = noise[i]! + (target[i]! - noise[i]!) * t;
  return out;
}

async function selectedLatent(): Promise<LatentInput & { data: Float32Array }> {
  return centreCrop(await loadAstronaut(), Number(ui.size.value));
}

// ---------------------------------------------------------------------------------------------
// Actions. One runs at a time; Stop ends a simulated run after the step in flight.

let stopRequested = false;

function setBusy(busy: boolean): void {
  for (const el of [ui.backend, ui.model, ui.weightsUrl, ui.size, ui.steps, ui.decode, ui.simulate]) el.disabled = busy;
  ui.stop.disabled = !busy;
}

function showStepTime(ms: number[], d: Decoder): void {
  const last = ms.at(-1) ?? 0;
  const mean = ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length);
  ui.ms.textContent = ms.length > 1 ? `${last.toFixed(0)} ms (mean ${mean.toFixed(0)} ms)` : `${last.toFixed(0)} ms`;
  ui.reason.textContent = d.backendReason;
}

/**
 * One frame: decode into the canvas. On WebGPU, decodeToCanvas resolves once the work is queued;
 * waiting for the queue to drain makes the timing real and keeps a run from queueing frames
 * faster than the GPU draws them.
 */
async function draw(d: Decoder, latent: LatentInput): Promise<{ width: number; height: number }> {
  const size = await d.decodeToCanvas(latent, canvas);
  await d.device?.queue.onSubmittedWorkDone();
  return size;
}

async function run(action: () => Promise<void>): Promise<void> {
  setBusy(true);
  stopRequested = false;
  try {
    await action();
  } catch (e) {
    const code = isTaesdError(e) ? `${e.code}: ` : '';
    setStatus('error', `${code}${e instanceof Error ? e.message : String(e)}`);
    console.error(e);
  } finally {
    setBusy(false);
  }
}

async function decodeOnce(): Promise<void> {
  const latent = await selectedLatent();
  const d = await currentDecoder();
  setStatus('busy', `decoding on ${d.backend}…`);
  const t0 = performance.now();
  const size = await draw(d, latent);
  const ms = performance.now() - t0;
  ui.step.textContent = '–';
  showStepTime([ms], d);
  ui.output.textContent = `${size.width}×${size.height} px from a ${latent.shape.join('×')} latent`;
  setStatus('done', `decoded in ${ms.toFixed(0)} ms`);
}

async function simulateRun(): Promise<void> {
  const steps = Math.max(1, Math.min(200, Math.round(Number(ui.steps.value) || 1)));
  const target = await selectedLatent();
  const d = await currentDecoder();
  const noise = gaussianNoise(target.data.length);
  const x = new Float32Array(target.data.length);
  const times: number[] = [];
  setStatus('busy', `simulating ${steps} steps on ${d.backend}…`);
  for (let i = 0; i < steps; i++) {
    if (stopRequested) {
      setStatus('stopped', `stopped after ${i} of ${steps} steps`);
      return;
    }
    const t = steps === 1 ? 1 : i / (steps - 1);
    const t0 = performance.now();
    const size = await draw(d, { data: blend(noise, target.data, t, x), shape: target.shape });
    times.push(performance.now() - t0);
    ui.step.textContent = `${i + 1}/${steps}`;
    ui.output.textContent = `${size.width}×${size.height} px from a ${target.shape.join('×')} latent`;
    showStepTime(times, d);
    // Let the page paint this step before the next one starts.
    await new Promise((resolve) => requestAnimationFrame(resolve));
  }
  setStatus('done', `${steps} steps on ${d.backend}, ${(times.reduce((a, b) => a + b, 0) / steps).toFixed(0)} ms per step`);
}

// ---------------------------------------------------------------------------------------------
// Wiring.

ui.model.addEventListener('change', () => {
  ui.weightsUrlLabel.hidden = ui.model.value !== 'url';
});
ui.decode.addEventListener('click', () => void run(decodeOnce));
ui.simulate.addEventListener('click', () => void run(simulateRun));
ui.stop.addEventListener('click', () => {
  stopRequested = true;
  ui.stop.disabled = true;
});

// Fetch the latent (and the default weights) up front, so the first click only decodes.
setBusy(true);
Promise.all([loadAstronaut(), loadWeights(TAEF2_WEIGHTS_URL)])
  .then(() => setStatus('ready', 'ready: pick a backend, then decode or simulate a run'))
  .catch((e: unknown) => {
    setStatus('error', `could not load the demo data: ${e instanceof Error ? e.message : String(e)}`);
    console.error(e);
  })
  .finally(() => setBusy(false));
