// Plays decoded video frames in a canvas: play/pause, a frame scrubber and a frame rate. Frames may
// arrive while it plays (a chunked decode hands them over chunk by chunk). A frame is RGBA bytes
// (drawn through a 2D context) or a texture on the decoder's WebGPU device (copied into a WebGPU
// context, no CPU round trip); a canvas keeps its first context, so a change of kind swaps it.
import type { GpuVideoFrame, RgbaImage, VideoDecoder } from 'taesd-web';
import { drawRgba } from './ui.js';

/** A frame the player can show. */
export interface PlayerFrame {
  readonly width: number;
  readonly height: number;
  /** The canvas context it draws through. */
  readonly context: '2d' | 'webgpu';
  /** Bytes it holds (RGBA, 8 bits), in the page or on the GPU. */
  readonly bytes: number;
  draw(canvas: HTMLCanvasElement): void;
  release(): void;
}

export const rgbaFrame = (image: RgbaImage): PlayerFrame => ({
  width: image.width, height: image.height, context: '2d', bytes: image.data.byteLength,
  draw: (canvas) => drawRgba(canvas, image),
  release: () => undefined,
});

/** A frame of decodeVideoToTextures, drawn by `decoder` (its device's) and destroyed with the video. */
export const textureFrame = (decoder: VideoDecoder, frame: GpuVideoFrame): PlayerFrame => ({
  width: frame.width, height: frame.height, context: 'webgpu', bytes: frame.width * frame.height * 4,
  draw: (canvas) => decoder.drawFrame(frame, canvas.getContext('webgpu') as GPUCanvasContext),
  release: () => frame.texture.destroy(),
});

export interface PlayerUi {
  readonly canvas: () => HTMLCanvasElement;
  readonly playPause: HTMLButtonElement;
  readonly scrub: HTMLInputElement;
  readonly fps: HTMLInputElement;
  readonly frame: HTMLOutputElement;
}

export class FramePlayer {
  private frames: PlayerFrame[] = [];
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

  /** Drops the frames (a new video starts); GPU ones are destroyed. */
  clear(): void {
    this.pause();
    this.frames.forEach((f) => f.release());
    this.frames = [];
    this.index = 0;
    this.sync();
  }

  /** Appends frames; the first one is drawn at once. */
  add(frames: readonly PlayerFrame[]): void {
    const first = this.frames.length === 0;
    this.frames.push(...frames);
    if (first && this.frames.length) this.show(0);
    else this.sync();
  }

  /** Bytes the frames hold (RGBA, 8 bits). */
  get bytes(): number {
    return this.frames.reduce((n, f) => n + f.bytes, 0);
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
    frame.draw(this.canvasFor(frame.context));
    this.sync();
  }

  /** The page's canvas, or a fresh copy in its place where it already has the other kind of context. */
  private canvasFor(kind: '2d' | 'webgpu'): HTMLCanvasElement {
    const canvas = this.ui.canvas();
    if (canvas.getContext(kind)) return canvas;
    const fresh = canvas.cloneNode(false) as HTMLCanvasElement;
    canvas.replaceWith(fresh);
    return fresh;
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
