// "Follow a job": a job folder's progress.json watched with pollProgress, as a frontend (or the
// ComfyUI node's own page) does: progress bar, step, latest image, status and the error, if any.
// It imports the poll client alone (taesd-web/progress), as a polling page should.
import { pollProgress, type ProgressRecord } from 'taesd-web/progress';
import { wireFollowForm } from './followForm.js';
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

/** The last problem pollProgress reported (a 404, a timeout, a skipped record), shown with the status. */
let lastWarning = '';
/** Problems reported since the last record, e.g. 404s while the job does not exist (yet). */
let problemsInARow = 0;
/** Why the demo stopped polling by itself, if it did. */
let gaveUp: string | null = null;

/**
 * Gives up after this many problems in a row with no record between them: pollProgress retries a
 * missing progress.json (a job not started yet) forever, and a demo should not. The poll client's
 * own limit on malformed answers (`maxMalformedPolls`) has the same default.
 */
const MAX_PROBLEMS_IN_A_ROW = 20;

function showRecord(r: ProgressRecord): void {
  problemsInARow = 0;
  ui.progress.value = r.progress_percent;
  ui.step.value = r.status === 'completed' ? `done: ${r.total_steps} steps` : r.status === 'starting' ? `0 / ${r.total_steps}` : `step ${r.current_step + 1} / ${r.total_steps}`;
  const state = r.status === 'error' ? 'error' : r.status === 'completed' ? 'done' : 'busy';
  const text = r.status === 'error' ? `error: ${r.error ?? 'the job failed'}` : `${r.status}, ${r.progress_percent}%`;
  setStatus(ui.status, state, `${r.job_id}: ${text}${lastWarning && state === 'busy' ? ` (${lastWarning})` : ''}`);
}

async function follow(url: string, polling: AbortController): Promise<void> {
  lastWarning = '';
  problemsInARow = 0;
  gaveUp = null;
  ui.image.hidden = true;
  ui.empty.hidden = false;
  ui.progress.value = 0;
  ui.step.value = 'step – / –';
  setStatus(ui.status, 'busy', `polling ${url}…`);
  try {
    const last = await pollProgress(url, {
      intervalMs: 250,
      signal: polling.signal,
      onProgress: showRecord,
      onImage: (im) => {
        ui.image.src = im.dataUrl ?? im.url;
        ui.image.hidden = false;
        ui.empty.hidden = true;
      },
      onError: (e) => {
        lastWarning = errorText(e);
        problemsInARow++;
        if (problemsInARow >= MAX_PROBLEMS_IN_A_ROW) {
          gaveUp = `gave up on ${url} after ${problemsInARow} failed polls in a row (last: ${lastWarning}); is the job id right, and has the job started?`;
          polling.abort();
        } else {
          setStatus(ui.status, 'busy', `polling ${url}: ${lastWarning} (${problemsInARow} in a row; giving up at ${MAX_PROBLEMS_IN_A_ROW})`);
        }
      },
    });
    showRecord(last);
  } catch (e) {
    if (gaveUp !== null) setStatus(ui.status, 'error', gaveUp);
    else if (polling.signal.aborted) setStatus(ui.status, 'stopped', `stopped following ${url}`);
    else setStatus(ui.status, 'error', errorText(e));
  }
}

export function initFollow(): void {
  wireFollowForm(ui, follow);
}
