// "Follow a job": a job folder's progress.json watched with pollProgress, as a frontend (or the
// ComfyUI node's own page) does: progress bar, step, latest image, status and the error, if any.
import { pollProgress, type ProgressRecord } from 'taesd-web';
import { $, errorText, setStatus } from './ui.js';

const ui = {
  form: $<HTMLFormElement>('poll-form'),
  url: $<HTMLInputElement>('poll-url'),
  start: $<HTMLButtonElement>('poll-start'),
  stop: $<HTMLButtonElement>('poll-stop'),
  progress: $<HTMLProgressElement>('poll-progress'),
  step: $<HTMLOutputElement>('poll-step'),
  image: $<HTMLImageElement>('poll-image'),
  empty: $<HTMLElement>('poll-empty'),
  status: $<HTMLElement>('poll-status'),
};

let following: AbortController | null = null;
/** The last problem pollProgress reported (a timeout, a skipped record), shown with the status. */
let lastWarning = '';

function showRecord(r: ProgressRecord): void {
  ui.progress.value = r.progress_percent;
  ui.step.value = r.status === 'completed' ? `done: ${r.total_steps} steps` : r.status === 'starting' ? `0 / ${r.total_steps}` : `step ${r.current_step + 1} / ${r.total_steps}`;
  const state = r.status === 'error' ? 'error' : r.status === 'completed' ? 'done' : 'busy';
  const text = r.status === 'error' ? `error: ${r.error ?? 'the job failed'}` : `${r.status}, ${r.progress_percent}%`;
  setStatus(ui.status, state, `${r.job_id}: ${text}${lastWarning && state === 'busy' ? ` (${lastWarning})` : ''}`);
}

async function follow(url: string): Promise<void> {
  following = new AbortController();
  ui.start.disabled = true;
  ui.stop.disabled = false;
  lastWarning = '';
  ui.image.hidden = true;
  ui.empty.hidden = false;
  ui.progress.value = 0;
  ui.step.value = 'step – / –';
  setStatus(ui.status, 'busy', `polling ${url}…`);
  try {
    const last = await pollProgress(url, {
      intervalMs: 250,
      signal: following.signal,
      onProgress: showRecord,
      onImage: (im) => {
        ui.image.src = im.dataUrl ?? im.url;
        ui.image.hidden = false;
        ui.empty.hidden = true;
      },
      onError: (e) => (lastWarning = errorText(e)),
    });
    showRecord(last);
  } catch (e) {
    if (following.signal.aborted) setStatus(ui.status, 'stopped', `stopped following ${url}`);
    else setStatus(ui.status, 'error', errorText(e));
  } finally {
    following = null;
    ui.start.disabled = false;
    ui.stop.disabled = true;
  }
}

export function initFollow(): void {
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const url = ui.url.value.trim();
    if (url && !following) void follow(url);
  });
  ui.stop.addEventListener('click', () => following?.abort());
}
