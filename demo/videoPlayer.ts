// Plays decoded video frames in a canvas: play/pause, a frame scrubber and a frame rate. Frames may
// arrive while it plays (a chunked decode hands them over chunk by chunk).
import type { RgbaImage } from 'taesd-web';
import { drawRgba } from './ui.js';

export interface PlayerUi {
  readonly canvas: () => HTMLCanvasElement;
  readonly playPause: HTMLButtonElement;
  readonly scrub: HTMLInputElement;
  readonly fps: HTMLInputElement;
  readonly frame: HTMLOutputElement;
}

export class FramePlayer {
  private frames: RgbaImage[] = [];
  private index = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ui: PlayerUi) {
    ui.playPause.addEventListener('click', () => (this.playing ? this.pause() : this.play()));
    ui.scrub.addEventListener('input', () => {
      const i = Number(ui.scrub.value);
      this.pause();
      this.show(i);
    });
    this.sync();
  }

  get playing(): boolean {
    return this.timer !== null;
  }

  /** The frame shown, for tests and captions. */
  get current(): number {
    return this.index;
  }

  /** Drops the frames (a new video starts). */
  clear(): void {
    this.pause();
    this.frames = [];
    this.index = 0;
    this.sync();
  }

  /** Appends frames; the first one is drawn at once. */
  add(frames: readonly RgbaImage[]): void {
    const first = this.frames.length === 0;
    this.frames.push(...frames);
    if (first && this.frames.length) this.show(0);
    else this.sync();
  }

  /** Bytes the frames hold (RGBA, 8 bits). */
  get bytes(): number {
    return this.frames.reduce((n, f) => n + f.data.byteLength, 0);
  }

  play(): void {
    if (this.playing || this.frames.length < 2) return;
    const tick = () => {
      this.show((this.index + 1) % this.frames.length);
      this.timer = setTimeout(tick, 1000 / this.fps());
    };
    this.timer = setTimeout(tick, 1000 / this.fps());
    this.sync();
  }

  pause(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.sync();
  }

  show(i: number): void {
    const frame = this.frames[i];
    if (!frame) return;
    this.index = i;
    drawRgba(this.ui.canvas(), frame);
    this.sync();
  }

  private fps(): number {
    const fps = Number(this.ui.fps.value);
    return Number.isFinite(fps) && fps >= 1 ? Math.min(fps, 120) : 16;
  }

  private sync(): void {
    const n = this.frames.length;
    this.ui.scrub.max = String(Math.max(0, n - 1));
    this.ui.scrub.value = String(this.index);
    this.ui.scrub.disabled = n < 2;
    this.ui.playPause.disabled = n < 2;
    this.ui.playPause.textContent = this.playing ? 'Pause' : 'Play';
    this.ui.frame.value = n ? `frame ${this.index + 1} / ${n}` : 'frame – / –';
  }
}
