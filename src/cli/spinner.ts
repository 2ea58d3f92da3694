import { stderrColumns } from './dawnNotices.js';

const FRAMES = '|/-\\';

export interface SpinnerOptions {
  /** Show nothing for work shorter than this (default 1000 ms). */
  readonly afterMs?: number;
  /** The terminal's width; null (stderr is not a terminal): show nothing. */
  readonly columns?: number | null;
  readonly write?: (text: string) => void;
}

/**
 * Once `afterMs` has passed, shows `label` and the elapsed seconds on one stderr line, redrawn
 * every 100 ms, until the returned stop() erases it. Only on a terminal: a redirected stderr
 * gets no carriage returns, and stdout is never touched. The timers never keep Node alive.
 */
export function startSpinner(label: string, o: SpinnerOptions = {}): () => void {
  const columns = o.columns === undefined ? stderrColumns() : o.columns;
  if (columns === null) return () => undefined;
  const write = o.write ?? ((text: string) => void process.stderr.write(text));
  const started = performance.now();
  let frame = 0;
  let shown = 0;
  const draw = () => {
    const line = `${FRAMES[frame++ % FRAMES.length]} ${label} ${((performance.now() - started) / 1000).toFixed(1)} s`.slice(0, columns - 1);
    shown = line.length;
    write(`\r${line}`);
  };
  let timer: ReturnType<typeof setInterval> | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, 100);
    timer.unref?.();
  }, o.afterMs ?? 1000);
  delay.unref?.();
  return () => {
    clearTimeout(delay);
    clearInterval(timer);
    if (shown) write(`\r${' '.repeat(shown)}\r`);
    shown = 0;
  };
}

/** Awaits `work` with a spinner (see startSpinner) while it runs. */
export async function withSpinner<T>(label: string, work: Promise<T>, o: SpinnerOptions = {}): Promise<T> {
  const stop = startSpinner(label, o);
  try {
    return await work;
  } finally {
    stop();
  }
}
