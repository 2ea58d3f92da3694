// The "Latents already on the GPU" section: runs the stand-in sampler for a few steps, drawing each
// step GPU-resident, then again through a CPU round trip, and shows what each costs.
import { loadWeights, TAEF2_WEIGHTS_URL } from './shipped.js';
import { ResidentSampler } from './gpuResident.js';
import { $, errorText, ms, setStatus } from './ui.js';

const STEPS = 6;

const ui = {
  form: $<HTMLFormElement>('gpu-form'),
  size: $<HTMLSelectElement>('gpu-size'),
  start: $<HTMLButtonElement>('gpu-start'),
  stop: $<HTMLButtonElement>('gpu-stop'),
  empty: $<HTMLElement>('gpu-empty'),
  status: $<HTMLElement>('gpu-status'),
  resident: $<HTMLElement>('gpu-resident'),
  roundTrip: $<HTMLElement>('gpu-roundtrip'),
};

let sampler: { side: number; made: Promise<ResidentSampler> } | null = null;
let stopRequested = false;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** The sampler for this size, made once (a new size replaces it). */
function samplerFor(side: number): Promise<ResidentSampler> {
  if (sampler?.side !== side) {
    void sampler?.made.then((s) => s.destroy(), () => {});
    const made = loadWeights(TAEF2_WEIGHTS_URL, TAEF2_WEIGHTS_URL).then((w) => ResidentSampler.create(side, w));
    made.catch(() => (sampler = null));
    sampler = { side, made };
  }
  return sampler.made;
}

async function run(): Promise<void> {
  const side = Number(ui.size.value);
  setStatus(ui.status, 'busy', 'starting onnxruntime-web on WebGPU…');
  const s = await samplerFor(side);
  s.restart();
  // The decoder may swap in a fresh canvas after a backend change: always draw into the current one.
  const canvas = () => $<HTMLCanvasElement>('gpu-canvas');
  const sampling: number[] = [], resident: number[] = [], roundTrip: number[] = [], readback: number[] = [];
  for (let i = 0; i < STEPS && !stopRequested; i++) {
    setStatus(ui.status, 'busy', `step ${i + 1} / ${STEPS}${i === 0 ? ' (the first decodes at a size compile pipelines)' : ''}…`);
    const t0 = performance.now();
    const latent = await s.step();
    const t1 = performance.now();
    await s.drawResident(latent, canvas());
    const t2 = performance.now();
    ui.empty.hidden = true;
    const readMs = await s.drawViaCpu(latent, canvas());
    const t3 = performance.now();
    // Step 1 is the warm-up of both paths: kept out of the medians.
    if (i > 0) {
      sampling.push(t1 - t0);
      resident.push(t2 - t1);
      roundTrip.push(t3 - t2);
      readback.push(readMs);
      ui.resident.textContent = `${ms(median(resident))} decode + ${ms(median(sampling))} sampler step (median of ${resident.length})`;
      ui.roundTrip.textContent = `${ms(median(roundTrip))}: getData() ${ms(median(readback))}, then the decode from the CPU`;
    }
  }
  const how = `${s.decoder.backend} on onnxruntime-web's device, ${s.shape.join('×')} latent`;
  setStatus(ui.status, stopRequested ? 'stopped' : 'done', `${stopRequested ? 'stopped' : `${STEPS} steps`}: ${how}`);
}

export function initGpuSection(): void {
  if (!('gpu' in navigator && navigator.gpu)) {
    setStatus(ui.status, 'error', 'this browser has no WebGPU (navigator.gpu): this example needs it');
    ui.start.disabled = true;
    return;
  }
  // A CPU-emulated adapter (SwiftShader, lavapipe) takes minutes per 64×64 decode: start small there.
  ui.start.disabled = true;
  void navigator.gpu.requestAdapter().then((a) => {
    if (!a) return setStatus(ui.status, 'error', 'no WebGPU adapter: this example needs one');
    ui.start.disabled = false;
    if (a.info.isFallbackAdapter) ui.size.value = '16';
    setStatus(ui.status, 'ready', a.info.isFallbackAdapter ? 'this WebGPU adapter is CPU-emulated: a 16×16 crop keeps each step to seconds' : 'ready');
  });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    stopRequested = false;
    ui.start.disabled = true;
    ui.size.disabled = true;
    ui.stop.disabled = false;
    run()
      .catch((err: unknown) => {
        setStatus(ui.status, 'error', errorText(err));
        console.warn(err); // the status shows it; the stack is for developers
      })
      .finally(() => {
        ui.start.disabled = false;
        ui.size.disabled = false;
        ui.stop.disabled = true;
      });
  });
  ui.stop.addEventListener('click', () => {
    stopRequested = true;
    ui.stop.disabled = true;
  });
}
