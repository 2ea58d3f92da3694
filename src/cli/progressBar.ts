import { stderrColumns } from './dawnNotices.js';

/** A one-line progress bar on a terminal (stderr); plain lines when stderr is not a TTY. */
export class ProgressBar {
  private readonly columns = stderrColumns();
  private readonly start = performance.now();

  constructor(private readonly total: number, private readonly width = 30) {}

  update(done: number, label: string): void {
    const elapsed = (performance.now() - this.start) / 1000;
    if (this.columns === null) {
      process.stderr.write(`[${done}/${this.total}] ${label}\n`);
      return;
    }
    const filled = Math.round((done / this.total) * this.width);
    const eta = done > 0 ? ((elapsed / done) * (this.total - done)).toFixed(0) : '?';
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}] ${done}/${this.total} ${elapsed.toFixed(1)}s eta ${eta}s ${label}`.slice(0, this.columns).padEnd(Math.min(120, this.columns)));
    if (done === this.total) process.stderr.write('\n');
  }
}
