// The "Video" section: a TAEHV decode of a video latent (the shipped Wan 2.1 example or a dropped
// file) with dropped or linked weights, played in a canvas, with the decode time and memory. On
// WebGPU the frames stay on the GPU as textures and are drawn straight from there; WASM (where the
// browser has no WebGPU, or when picked) reads them back and draws them through a 2D context.
import { createVideoDecoder, isTaesdError, latentFromFile, VIDEO_MODEL_IDS, type VideoDecoder, type VideoModelId } from 'taesd-web';
import { fetchBytes, ORT_WASM, WAN_EXAMPLE_URL } from './shipped.js';
import { FramePlayer, rgbaFrame, textureFrame, type PlayerFrame } from './videoPlayer.js';
import { $, errorText, ms, setStatus, type State } from './ui.js';

const ui = {
  form: $<HTMLFormElement>('video-form'),
  source: $<HTMLSelectElement>('video-source'),
  drop: $<HTMLDivElement>('video-drop'),
  files: $<HTMLInputElement>('video-files'),
  note: $<HTMLElement>('video-note'),
  model: $<HTMLSelectElement>('video-model'),
  backend: $<HTMLSelectElement>('video-backend'),
  weightsUrl: $<HTMLInputElement>('video-weights-url'),
  scale: $<HTMLSelectElement>('video-scale'),
  timeScale: $<HTMLSelectElement>('video-time-scale'),
  decode: $<HTMLButtonElement>('video-decode'),
  stop: $<HTMLButtonElement>('video-stop'),
  status: $<HTMLElement>('video-status'),
  empty: $<HTMLElement>('video-empty'),
  decodeTime: $<HTMLElement>('video-time'),
  perFrame: $<HTMLElement>('video-per-frame'),
  memory: $<HTMLElement>('video-memory'),
  output: $<HTMLElement>('video-output'),
  drawn: $<HTMLElement>('video-drawn'),
};

const player = new FramePlayer({
  canvas: () => $<HTMLCanvasElement>('video-canvas'),
  playPause: $<HTMLButtonElement>('video-play'),
  scrub: $<HTMLInputElement>('video-scrub'),
  fps: $<HTMLInputElement>('video-fps'),
  frame: $<HTMLOutputElement>('video-frame'),
});

type Bytes = { readonly name: string; readonly bytes: Uint8Array };
let droppedLatent: Bytes | null = null;
let droppedWeights: Bytes | null = null;
let decoder: { key: string; made: Promise<Made> } | null = null;
let running: AbortController | null = null;

const status = (state: State, text: string) => setStatus(ui.status, state, text);

/** A .pth, or a .safetensors holding no latent, is TAEHV weights; anything else a latent. */
function isWeights(file: Bytes): boolean {
  if (/\.pth$/i.test(file.name)) return true;
  if (!/\.safetensors$/i.test(file.name)) return false;
  try {
    latentFromFile(file.bytes, file.name);
    return false;
  } catch (e) {
    return isTaesdError(e, 'LATENT_SHAPE');
  }
}

/** The model a weights name says (`taew2_1.pth`, `taew2_1_randw.pth`), longest id first. */
function modelNamedBy(name: string): VideoModelId | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return [...VIDEO_MODEL_IDS].sort((a, b) => b.length - a.length).find((id) => base === `${id}.pth` || base === `${id}.safetensors` || base.startsWith(`${id}_`));
}

function describeSources(): void {
  const latent = ui.source.value === 'example' ? 'examples/wan.safetensors: a real Wan 2.1 latent, 5 × 40 × 64 (17 frames of 512 × 320)' : droppedLatent ? `latent: ${droppedLatent.name}` : 'drop a video latent [1,C,T,h,w] here';
  const url = ui.weightsUrl.value.trim();
  const weights = droppedWeights ? `weights: ${droppedWeights.name}` : url ? `weights: ${url}` : `weights: none yet (npx taesd-web fetch-models ${ui.model.value} saves ${ui.model.value}.pth in ~/.cache/taesd-web: drop it here, or give a URL)`;
  ui.note.textContent = `${latent}. ${weights}.`;
}

async function takeFiles(list: FileList | null): Promise<void> {
  for (const f of [...(list ?? [])]) {
    const file = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
    if (isWeights(file)) {
      droppedWeights = file;
      const named = modelNamedBy(file.name);
      if (named) ui.model.value = named;
    } else {
      latentFromFile(file.bytes, file.name); // a bad latent is reported on drop
      droppedLatent = file;
      ui.source.value = 'file';
    }
  }
  describeSources();
}

async function latentBytes(): Promise<Bytes> {
  if (ui.source.value === 'example') return { name: 'wan.safetensors', bytes: await fetchBytes(WAN_EXAMPLE_URL) };
  if (!droppedLatent) throw new Error('drop a video latent file on the Video section, or pick the shipped example');
  return droppedLatent;
}

type Backend = 'auto' | 'webgpu' | 'wasm';
/** A decoder, and why it is not on the backend picked (empty when it is). */
type Made = { readonly decoder: VideoDecoder; readonly note: string };

/** The decoder for these settings (made once): WebGPU falls back to WASM where there is no adapter. */
function decoderFor(model: VideoModelId, backend: Backend): Promise<Made> {
  const url = ui.weightsUrl.value.trim();
  if (!droppedWeights && !url) throw new Error(`no ${model} weights: npx taesd-web fetch-models ${model} saves them in your per-user cache (~/.cache/taesd-web on Linux); drop that file here, or give a URL`);
  const key = JSON.stringify([model, backend, droppedWeights ? [droppedWeights.name, droppedWeights.bytes.length] : url]);
  if (decoder?.key !== key) {
    void decoder?.made.then((m) => m.decoder.destroy(), () => {});
    const weights = droppedWeights?.bytes ?? url;
    const wasm = async (note: string) => ({ decoder: await createVideoDecoder({ weights, model, backend: 'wasm', wasm: ORT_WASM }), note });
    // auto: the library's rule, WebGPU on a GPU and WASM on a CPU-emulated adapter (SwiftShader), where WASM is far faster.
    const made = backend === 'wasm' ? wasm('') : createVideoDecoder({ weights, model, backend, wasm: ORT_WASM }).then(
      (d) => ({ decoder: d, note: '' }),
      (e: unknown) => {
        if (!isTaesdError(e, 'NO_WEBGPU')) throw e;
        return wasm(' (no WebGPU adapter here)');
      },
    );
    made.catch(() => (decoder = null));
    decoder = { key, made };
  }
  return decoder.made;
}

/** The page's memory as Chromium measures it (cross-origin isolated pages), else the JS heap. */
async function memoryText(framesBytes: number, onGpu: boolean): Promise<string> {
  const held = `frames ${(framesBytes / 2 ** 20).toFixed(1)} MiB${onGpu ? ' on the GPU' : ''}`;
  const perf = performance as Performance & { measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>; memory?: { usedJSHeapSize: number } };
  if (crossOriginIsolated && perf.measureUserAgentSpecificMemory) {
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 15_000));
    const m = await Promise.race([perf.measureUserAgentSpecificMemory().catch(() => null), timeout]);
    if (m) return `${held}; page ${(m.bytes / 2 ** 20).toFixed(0)} MiB (measureUserAgentSpecificMemory, ${onGpu ? 'GPU memory not counted' : "with onnxruntime's WASM memory"})`;
  }
  return perf.memory ? `${held}; JS heap ${(perf.memory.usedJSHeapSize / 2 ** 20).toFixed(0)} MiB` : held;
}

async function decodeVideo(signal: AbortSignal): Promise<void> {
  const model = ui.model.value as VideoModelId;
  const scale = Number(ui.scale.value), timeScale = Number(ui.timeScale.value);
  player.clear();
  ui.empty.hidden = false;
  for (const el of [ui.decodeTime, ui.perFrame, ui.memory, ui.output, ui.drawn]) el.textContent = '–';
  const chosen = ui.backend.value as Backend;
  status('loading', `loading the ${model} decoder on ${chosen === 'webgpu' ? 'WebGPU' : 'WASM'}…`);
  const [{ name, bytes }, { decoder: d, note }] = await Promise.all([latentBytes(), decoderFor(model, chosen)]);
  const { latent } = latentFromFile(bytes, name);
  const total = d.outputFrames(latent.shape.length === 5 ? latent.shape[2]! : latent.shape[1]!, { scale, timeScale });
  status('busy', `decoding ${name} with ${model} on ${d.backend} (${total} frames)…`);
  let count = 0;
  const t0 = performance.now();
  /** Hands each chunk's frames to the player as they come; a stop keeps those so far. */
  const onFrames = <F>(toFrame: (f: F) => PlayerFrame) => (got: F[]) => {
    const frames = got.map(toFrame);
    if (signal.aborted) {
      frames.forEach((f) => f.release());
      throw new DOMException('stopped', 'AbortError');
    }
    count += frames.length;
    ui.empty.hidden = true;
    player.add(frames);
    status('busy', `decoding ${name}: ${count} / ${total} frames, ${ms(performance.now() - t0)}…`);
  };
  const input = latent as Parameters<VideoDecoder['decodeVideo']>[0];
  const options = { scale, timeScale };
  // WebGPU: the frames stay on the GPU (textures), and each is drawn by a copy into the canvas.
  const [first] = d.backend === 'webgpu'
    ? await d.decodeVideoToTextures(input, { ...options, onFrames: onFrames((f) => textureFrame(d, f)) })
    : await d.decodeVideo(input, { ...options, onFrames: onFrames(rgbaFrame) });
  const t = performance.now() - t0;
  ui.decodeTime.textContent = `${ms(t)} (${(count / (t / 1000)).toFixed(1)} frames/s)`;
  ui.perFrame.textContent = ms(t / count);
  ui.output.textContent = `${count} frames, ${first!.width} × ${first!.height}, ${d.model.id} on ${d.backend}`;
  ui.drawn.textContent = d.backend === 'webgpu'
    ? 'from the GPU: each frame a texture, copied into the canvas (no readback)'
    : `from the CPU: RGBA read back from WASM, put into a 2D canvas${note}`;
  status('done', `decoded ${name}: ${count} frames in ${ms(t)} on ${d.backend}`);
  player.play();
  // Measured after the decode ends (Chromium's measurement waits for a garbage collection).
  ui.memory.textContent = 'measuring…';
  void memoryText(player.bytes, d.backend === 'webgpu').then((text) => (ui.memory.textContent = text));
}

export function initVideoSection(): void {
  for (const id of VIDEO_MODEL_IDS) ui.model.add(new Option(id, id, id === 'taew2_1', id === 'taew2_1'));
  // Auto by default; without WebGPU the option stays, disabled, to say why it is not picked.
  if (!('gpu' in navigator && navigator.gpu)) {
    const gpu = ui.backend.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
    gpu.disabled = true;
    gpu.textContent = 'WebGPU (absent)';
  }
  describeSources();
  status('ready', 'pick a latent and weights, then Decode');
  ui.source.addEventListener('change', describeSources);
  ui.model.addEventListener('change', describeSources);
  ui.weightsUrl.addEventListener('change', () => {
    droppedWeights = null;
    const named = modelNamedBy(ui.weightsUrl.value.trim());
    if (named) ui.model.value = named;
    describeSources();
  });
  const take = (list: FileList | null) => void takeFiles(list).catch((e: unknown) => status('error', errorText(e)));
  ui.files.addEventListener('change', () => take(ui.files.files));
  // Files dropped here are this section's (the page's own drop handler takes the rest).
  ui.drop.addEventListener('dragover', (e) => { e.preventDefault(); e.stopPropagation(); ui.drop.classList.add('over'); });
  ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
  ui.drop.addEventListener('drop', (e) => {
    e.preventDefault();
    e.stopPropagation();
    ui.drop.classList.remove('over');
    if (!running) take(e.dataTransfer?.files ?? null);
  });
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (running) return;
    running = new AbortController();
    ui.decode.disabled = true;
    ui.stop.disabled = false;
    const signal = running.signal;
    decodeVideo(signal)
      .catch((err: unknown) => status(signal.aborted ? 'stopped' : 'error', signal.aborted ? 'stopped: the frames so far stay' : errorText(err)))
      .finally(() => {
        running = null;
        ui.decode.disabled = false;
        ui.stop.disabled = true;
      });
  });
  ui.stop.addEventListener('click', () => running?.abort());
}
