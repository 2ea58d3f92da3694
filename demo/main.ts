// The taesd-web demo page: wiring for "Play a run" (sources, model and weights, backend, scale,
// playback, filmstrip, downloads), plus the "Follow a job" and GPU sections. No framework.
// `npm run demo` serves it (vite.config.ts); `npm run demo:build` makes it a static site.
import { getModel, isTaesdError, latentFromFile, MODEL_IDS, type BackendChoice, type Decoder, type ModelId } from 'taesd-web';
import { Decoders, SHIPPED_WEIGHTS, weightsHowTo, type WeightsRef } from './decoders.js';
import { downloadApng, downloadSheet, downloadStep } from './downloads.js';
import { Filmstrip, type Frame } from './filmstrip.js';
import { initGpuSection } from './gpuSection.js';
import { play } from './playback.js';
import { initFollow } from './poll.js';
import { exampleLatent, exampleStepsRun, latentDims, modelsFor, runFromFiles, syntheticRun, type Run } from './sources.js';
import { loadWeights, TAEF2_WEIGHTS_URL } from './shipped.js';
import { StepTimes } from './timings.js';
import { $, drawRgba, errorText, ms, setStatus, type State } from './ui.js';
import { initVideoJob } from './videoJob.js';
import { initVideoSection } from './videoSection.js';

const ui = {
  controls: $<HTMLFormElement>('controls'),
  source: $<HTMLSelectElement>('source'),
  stepsLabel: $<HTMLLabelElement>('steps-label'),
  steps: $<HTMLInputElement>('steps'),
  drop: $<HTMLDivElement>('drop'),
  files: $<HTMLInputElement>('files'),
  sourceNote: $<HTMLElement>('source-note'),
  model: $<HTMLSelectElement>('model'),
  weightsHelp: $<HTMLElement>('weights-help'),
  weightsUrl: $<HTMLInputElement>('weights-url'),
  backend: $<HTMLSelectElement>('backend'),
  scale: $<HTMLSelectElement>('scale'),
  play: $<HTMLButtonElement>('play-button'),
  stop: $<HTMLButtonElement>('stop'),
  progress: $<HTMLProgressElement>('progress'),
  step: $<HTMLOutputElement>('step'),
  canvas: $<HTMLCanvasElement>('canvas'),
  canvasEmpty: $<HTMLElement>('canvas-empty'),
  linear: $<HTMLCanvasElement>('linear'),
  linearEmpty: $<HTMLElement>('linear-empty'),
  taesdCaption: $<HTMLElement>('taesd-caption'),
  linearCaption: $<HTMLElement>('linear-caption'),
  status: $<HTMLElement>('status'),
  warmup: $<HTMLElement>('warmup'),
  perStep: $<HTMLElement>('per-step'),
  chosen: $<HTMLElement>('chosen'),
  output: $<HTMLElement>('output'),
  filmstrip: $<HTMLOListElement>('filmstrip'),
  dlPng: $<HTMLButtonElement>('dl-png'),
  dlJpeg: $<HTMLButtonElement>('dl-jpeg'),
  dlSheet: $<HTMLButtonElement>('dl-sheet'),
  dlApng: $<HTMLButtonElement>('dl-apng'),
  modelTable: $<HTMLTableSectionElement>('model-table'),
  isolation: $<HTMLElement>('isolation'),
};

const decoders = new Decoders();
const times = new StepTimes();
const filmstrip = new Filmstrip(ui.filmstrip, (frame) => showFrame(frame));
/** Weights given by URL or file, per model. */
const givenWeights = new Map<ModelId, WeightsRef>();
/** Latent files dropped or picked, for the "Your files" source. */
let droppedFiles: { name: string; bytes: Uint8Array }[] = [];
let running: AbortController | null = null;

const status = (state: State, text: string) => setStatus(ui.status, state, text);

// ---------------------------------------------------------------------------------------------
// Models and weights.

const weightsFor = (model: ModelId): WeightsRef | null => givenWeights.get(model) ?? SHIPPED_WEIGHTS[model] ?? null;

/** The model a weights file or URL names (`taesdxl_decoder.pth`), else the one selected. */
function modelNamedBy(name: string): ModelId {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return MODEL_IDS.find((id) => base.startsWith(`${id}_`)) ?? (ui.model.value as ModelId);
}

function showWeights(): void {
  const model = ui.model.value as ModelId;
  const w = weightsFor(model);
  ui.weightsHelp.textContent = w ? `Weights: ${w.label}` : weightsHowTo(model);
}

function giveWeights(ref: WeightsRef, name: string): void {
  const model = modelNamedBy(name);
  givenWeights.set(model, ref);
  ui.model.value = model;
  showWeights();
}

/**
 * The model for a run's latents: the selected one when it fits, else one that fits (with weights,
 * if any has them), selected; and a note saying why when it changed.
 */
function chooseModel(channels: number): { model: ModelId; note: string } {
  const fits = modelsFor(channels);
  if (fits.length === 0) throw new Error(`no TAESD decoder takes ${channels}-channel latents (they take 4, 16 or 32, or FLUX.2's packed 128)`);
  const selected = ui.model.value as ModelId;
  if (fits.includes(selected)) return { model: selected, note: '' };
  const pick = fits.find((id) => weightsFor(id)) ?? fits[0]!;
  ui.model.value = pick;
  showWeights();
  const note = fits.length === 1
    ? `. ${channels} channels: ${pick} (${getModel(pick).label}), the only decoder for them.`
    : `. ${channels} channels fit ${fits.join(' or ')}: using ${pick}; pick the model if it is the other.`;
  return { model: pick, note };
}

// ---------------------------------------------------------------------------------------------
// Sources.

async function currentRun(): Promise<Run> {
  switch (ui.source.value) {
    case 'synthetic':
      return syntheticRun(Math.max(2, Math.min(50, Math.round(Number(ui.steps.value)) || 8)));
    case 'steps':
      return exampleStepsRun();
    default:
      if (droppedFiles.length === 0) throw new Error('drop latent files on the page, or choose them, first');
      return runFromFiles(droppedFiles);
  }
}

/** A dropped .pth, or a .safetensors with no latent in it, is decoder weights. */
function isWeightsFile(name: string, bytes: Uint8Array): boolean {
  if (/\.pth$/i.test(name)) return true;
  if (!/\.safetensors$/i.test(name)) return false;
  try {
    latentFromFile(bytes, name);
    return false;
  } catch (e) {
    return isTaesdError(e) && e.code === 'LATENT_SHAPE';
  }
}

async function takeFiles(list: FileList | null): Promise<void> {
  const files = await Promise.all([...(list ?? [])].map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
  const latents = [];
  for (const f of files) {
    if (isWeightsFile(f.name, f.bytes)) giveWeights({ key: `file:${f.name}:${f.bytes.byteLength}`, label: `${f.name} (your file)`, source: f.bytes }, f.name);
    else latents.push(f);
  }
  if (latents.length === 0) return;
  // A new pick replaces the last one even when it does not read: the old files must not play on.
  droppedFiles = [];
  ui.source.value = 'files';
  showSource();
  let run: Run;
  try {
    run = runFromFiles(latents); // checks them now, so a bad file is reported on drop
  } catch (e) {
    clearRun();
    setBusy(false);
    ui.canvasEmpty.textContent = ui.sourceNote.textContent = `Not played: ${errorText(e)}`;
    throw e;
  }
  droppedFiles = latents;
  ui.sourceNote.textContent = run.title + chooseModel(run.channels).note;
}

function showSource(): void {
  ui.stepsLabel.hidden = ui.source.value !== 'synthetic';
  ui.sourceNote.textContent = ui.source.value === 'synthetic'
    ? 'Synthetic: noise blended into the example latent, not a real sampler; the last step is the latent itself.'
    : ui.source.value === 'steps' ? 'The 8 step files in examples/steps (16×16 latents, 128 px images).' : `${droppedFiles.length} file(s) chosen.`;
}

// ---------------------------------------------------------------------------------------------
// Playback.

function showFrame(frame: Frame): void {
  drawRgba(ui.canvas, frame.image);
  ui.canvasEmpty.hidden = true;
  const by = frame.backend === 'linear' ? 'linear preview' : `TAESD on ${frame.backend}`;
  ui.taesdCaption.textContent = `${by} · ${frame.name} · ${ms(frame.ms)}${frame.warmup ? ' (warm-up)' : ''}`;
  if (frame.linear) {
    drawRgba(ui.linear, frame.linear);
    ui.linearEmpty.hidden = true;
    ui.linearCaption.textContent = `linear preview · ${ms(frame.linearMs!)}`;
  } else {
    ui.linearEmpty.hidden = false;
    ui.linearEmpty.textContent = 'no linear preview for this model';
    ui.linearCaption.textContent = 'linear preview';
  }
}

function showBackend(d: Decoder, startMs: number | null): void {
  const threads = d.backend === 'wasm' && d.numThreads ? `, ${d.numThreads} thread${d.numThreads > 1 ? 's' : ''}` : '';
  ui.chosen.textContent = `${d.backend}${threads}: ${d.backendReason}`;
  if (startMs !== null) ui.warmup.textContent = `decoder start ${ms(startMs)} (weights, backend)`;
}

function setBusy(busy: boolean): void {
  for (const el of ui.controls.querySelectorAll<HTMLInputElement | HTMLSelectElement>('input, select')) el.disabled = busy;
  ui.play.disabled = busy;
  ui.stop.disabled = !busy;
  const noFrames = busy || filmstrip.frames.length === 0;
  for (const b of [ui.dlPng, ui.dlJpeg, ui.dlSheet, ui.dlApng]) b.disabled = noFrames;
}

/** Empties the view, so nothing from an earlier run stays next to this one's error. */
function clearRun(): void {
  filmstrip.clear();
  times.reset();
  for (const el of [ui.warmup, ui.perStep, ui.chosen, ui.output]) el.textContent = '–';
  ui.taesdCaption.textContent = 'TAESD';
  ui.linearCaption.textContent = 'linear preview';
  for (const c of [ui.canvas, ui.linear]) c.getContext('2d')!.clearRect(0, 0, c.width, c.height);
  ui.canvasEmpty.textContent = 'decoding the first step…';
  ui.canvasEmpty.hidden = ui.linearEmpty.hidden = false;
  ui.linearEmpty.textContent = 'linear';
  ui.progress.value = 0;
  ui.step.value = 'step – / –';
}

async function playRun(signal: AbortSignal): Promise<void> {
  clearRun();
  status('busy', 'reading the latents…');
  const run = await currentRun();
  const { model, note } = chooseModel(run.channels);
  ui.sourceNote.textContent = run.title + note;
  const backend = ui.backend.value as BackendChoice;
  const scale = Number(ui.scale.value);
  status('busy', `starting ${model} on ${backend}…`);
  const { decoder, startMs } = await decoders.get(model, backend, weightsFor(model));
  const linear = await decoders.linearFor(model);
  showBackend(decoder, startMs);
  if (startMs !== null) decoder.onBackendChange(() => showBackend(decoder, null));
  if (signal.aborted) return status('stopped', 'stopped before the first step');

  const dims = latentDims(run.steps[0]!);
  ui.progress.max = run.steps.length === 1 ? dims.batch : run.steps.length;
  status('busy', `decoding on ${decoder.backend}: ${run.title}`);
  const result = await play(run, {
    decoder, linear, scale, signal, times,
    onFrame: (frame, i, total) => {
      showFrame(frame);
      filmstrip.add(frame, ui.canvas);
      ui.progress.value = i + 1;
      ui.step.value = `${total > 1 && run.steps.length === 1 ? 'item' : 'step'} ${i + 1} / ${total}`;
      ui.warmup.textContent = times.warmupText(decoder.backend) + (startMs === null ? '' : `; decoder start ${ms(startMs)}`);
      ui.perStep.textContent = times.perStepText();
      ui.output.textContent = `${frame.image.width}×${frame.image.height} px from a ${dims.channels}×${dims.height}×${dims.width} latent${scale === 1 ? '' : `, scale ${ui.scale.selectedOptions[0]!.text}`}`;
    },
  });
  const n = filmstrip.frames.length;
  status(result, `${result === 'done' ? 'done' : 'stopped'}: ${n} ${n === 1 ? 'image' : 'images'} on ${decoder.backend}. Click a thumbnail to look back.`);
}

// ---------------------------------------------------------------------------------------------
// Wiring.

for (const id of MODEL_IDS) {
  const m = getModel(id);
  ui.model.add(new Option(`${id} · ${m.label} · ${m.latent.channels} ch`, id, id === 'taef2', id === 'taef2'));
  const row = ui.modelTable.insertRow();
  row.insertCell().textContent = `${id} (${m.label})`;
  row.insertCell().textContent = `${m.latent.channels} ch${m.latent.packedChannels ? ` (or ${m.latent.packedChannels} packed)` : ''}`;
  const how = row.insertCell().appendChild(document.createElement('code'));
  how.textContent = SHIPPED_WEIGHTS[id] ? 'ships with the package' : `npx taesd-web fetch-models ${id}`;
}
ui.isolation.textContent = crossOriginIsolated ? 'cross-origin isolated: WASM can use threads' : 'not cross-origin isolated: WASM runs on one thread';

ui.model.addEventListener('change', showWeights);
ui.source.addEventListener('change', showSource);
ui.weightsUrl.addEventListener('change', () => {
  const url = ui.weightsUrl.value.trim();
  if (url) giveWeights({ key: url, label: url, source: url }, url);
});
ui.files.addEventListener('change', () => void takeFiles(ui.files.files).catch((e: unknown) => status('error', errorText(e))));
// Files dropped anywhere on the page are taken (and never opened by the browser instead).
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
document.addEventListener('dragleave', (e) => {
  if (!e.relatedTarget) ui.drop.classList.remove('over');
});
document.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  if (!running) void takeFiles(e.dataTransfer?.files ?? null).catch((err: unknown) => status('error', errorText(err)));
});

ui.play.addEventListener('click', () => {
  running = new AbortController();
  setBusy(true);
  playRun(running.signal)
    .catch((e: unknown) => {
      status('error', errorText(e));
      console.warn(e); // the status shows it; the stack is for developers
    })
    .finally(() => {
      running = null;
      setBusy(false);
    });
});
ui.stop.addEventListener('click', () => {
  running?.abort();
  ui.stop.disabled = true;
});

ui.dlPng.addEventListener('click', () => void downloadStep(filmstrip.current!, 'png'));
ui.dlJpeg.addEventListener('click', () => void downloadStep(filmstrip.current!, 'jpeg'));
ui.dlSheet.addEventListener('click', () => downloadSheet(filmstrip.frames));
ui.dlApng.addEventListener('click', () => downloadApng(filmstrip.frames));

initFollow();
initGpuSection();
initVideoSection();
initVideoJob();
showSource();
showWeights();

// Fetch the example latent and the shipped weights up front, and show the latent's linear
// preview (instant) so the page opens on a picture.
setBusy(true);
Promise.all([exampleLatent(), loadWeights(TAEF2_WEIGHTS_URL, TAEF2_WEIGHTS_URL), decoders.linearFor('taef2')])
  .then(async ([latent, , linear]) => {
    const preview = await linear!.decode(latent);
    drawRgba(ui.linear, preview);
    ui.linearEmpty.hidden = true;
    ui.linearCaption.textContent = 'linear preview of the example latent';
    status('ready', 'Ready: Play decodes the run step by step.');
  })
  .catch((e: unknown) => {
    status('error', `could not load the example: ${errorText(e)}`);
    console.warn(e);
  })
  .finally(() => setBusy(false));
