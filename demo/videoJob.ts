// "Step through a video job": a job folder followed with pollProgress, every step's preview kept,
// so the steps can be stepped through (a video job's preview is an animated PNG, which the <img>
// plays; a JPEG contact sheet shows as it is).
import { pollProgress, type PolledImage } from 'taesd-web/progress';
import { wireFollowForm } from './followForm.js';
import { $, errorText, setStatus } from './ui.js';

const ui = {
  form: $<HTMLFormElement>('video-job-form'),
  url: $<HTMLInputElement>('video-job-url'),
  start: $<HTMLButtonElement>('video-job-start'),
  stop: $<HTMLButtonElement>('video-job-stop'),
  step: $<HTMLInputElement>('video-job-step'),
  stepText: $<HTMLOutputElement>('video-job-step-text'),
  image: $<HTMLImageElement>('video-job-image'),
  empty: $<HTMLElement>('video-job-empty'),
  status: $<HTMLElement>('video-job-status'),
};

/** The previews seen, one per step (a step written again replaces its image). */
let steps: PolledImage[] = [];

function show(i: number): void {
  const im = steps[i];
  if (!im) return;
  ui.step.value = String(i);
  ui.image.src = im.dataUrl ?? im.url;
  ui.image.hidden = false;
  ui.empty.hidden = true;
  ui.stepText.value = `step ${im.step + 1} (${i + 1} / ${steps.length} seen)`;
}

function take(im: PolledImage): void {
  const atEnd = Number(ui.step.value) >= steps.length - 1;
  steps = [...steps.filter((s) => s.step !== im.step), im].sort((a, b) => a.step - b.step);
  ui.step.max = String(steps.length - 1);
  ui.step.disabled = steps.length < 2;
  // Follows the newest step unless the user went back to an earlier one.
  show(atEnd ? steps.length - 1 : Number(ui.step.value));
}

async function follow(url: string, following: AbortController): Promise<void> {
  steps = [];
  ui.step.value = '0';
  ui.step.disabled = true;
  setStatus(ui.status, 'busy', `polling ${url}…`);
  try {
    const last = await pollProgress(url, {
      intervalMs: 250,
      signal: following.signal,
      onProgress: (r) => setStatus(ui.status, r.status === 'error' ? 'error' : 'busy', `${r.job_id}: ${r.status}, step ${Math.max(0, r.current_step + 1)} / ${r.total_steps}`),
      onImage: take,
      onError: (e) => setStatus(ui.status, 'busy', `polling ${url}: ${errorText(e)}`),
    });
    setStatus(ui.status, last.status === 'completed' ? 'done' : 'error', `${last.job_id}: ${last.status}, ${steps.length} step previews; drag the slider to step through them`);
  } catch (e) {
    setStatus(ui.status, following.signal.aborted ? 'stopped' : 'error', following.signal.aborted ? `stopped following ${url}` : errorText(e));
  }
}

export function initVideoJob(): void {
  wireFollowForm(ui, follow);
  ui.step.addEventListener('input', () => show(Number(ui.step.value)));
}
