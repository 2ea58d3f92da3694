// The start/stop wiring a "follow a job" form needs: Start (the form's submit) follows the URL
// typed in, unless a follow runs; Stop aborts it; the two buttons say which is possible.
export interface FollowFormUi {
  readonly form: HTMLFormElement;
  readonly url: HTMLInputElement;
  readonly start: HTMLButtonElement;
  readonly stop: HTMLButtonElement;
}

/**
 * Wires `ui` to `follow`, which runs until the job ends or `following` is aborted (by Stop, or by
 * `follow` itself when it gives up) and reports its own outcome; it must not reject.
 */
export function wireFollowForm(ui: FollowFormUi, follow: (url: string, following: AbortController) => Promise<void>): void {
  let following: AbortController | null = null;
  ui.form.addEventListener('submit', (e) => {
    e.preventDefault();
    const url = ui.url.value.trim();
    if (!url || following) return;
    const current = (following = new AbortController());
    ui.start.disabled = true;
    ui.stop.disabled = false;
    void follow(url, current).finally(() => {
      following = null;
      ui.start.disabled = false;
      ui.stop.disabled = true;
    });
  });
  ui.stop.addEventListener('click', () => following?.abort());
}
