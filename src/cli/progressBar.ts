import { stderrColumns } from './dawnNotices.js';

/** `12.3 MB`. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/**
 * A one-line progress bar on a terminal (stderr). When stderr is not a terminal: a plain line per
 * update, or with `bytes` (a download, updated per chunk) nothing, the caller's summary line being enough.
 */
export class ProgressBar {
  private readonly columns = stderrColumns();
  private readonly start = performance.now();
  private drawnAt = -Infinity;

  /** `total` items, or bytes with `bytes` (null: a download of undeclared size). */
  constructor(private readonly total: number | null, private readonly o: { bytes?: boolean; width?: number } = {}) {}

  update(done: number, label: string): void {
    const now = performance.now();
    const elapsed = (now - this.start) / 1000;
    if (this.columns === null) {
      if (!this.o.bytes) process.stderr.write(`[${done}/${this.total}] ${label}\n`);
      return;
    }
    const last = done === this.total;
    if (!last && now - this.drawnAt < 100) return; // a redraw per chunk would flood the terminal
    this.drawnAt = now;
    const width = this.o.width ?? 30;
    const filled = this.total ? Math.round((Math.min(done, this.total) / this.total) * width) : 0;
    const count = this.o.bytes ? `${megabytes(done)}${this.total ? ` / ${megabytes(this.total)}` : ''}` : `${done}/${this.total}`;
    const eta = this.total && done > 0 ? ` eta ${((elapsed / done) * (this.total - done)).toFixed(0)}s` : '';
    const bar = this.total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    process.stderr.write(`\r${bar}${count} ${elapsed.toFixed(1)}s${eta} ${label}`.slice(0, this.columns).padEnd(Math.min(120, this.columns)));
    if (last) process.stderr.write('\n');
  }
}
