// The saved steps of a run as thumbnails; clicking one shows that step again.
import type { RgbaImage } from 'taesd-web';

/** One decoded step of a run (or one item of a batch). */
export interface Frame {
  /** "step 3", a file name, or "item 2 of 4". */
  readonly name: string;
  /** The backend that decoded `image`. */
  readonly backend: string;
  readonly image: RgbaImage;
  /** The linear preview of the same latent, or null (no preview for this model). */
  readonly linear: RgbaImage | null;
  /** TAESD decode time (a batch: its time divided by its size). */
  readonly ms: number;
  readonly linearMs: number | null;
  /** Whether this was the decoder's first decode at this size (pipelines, sessions). */
  readonly warmup: boolean;
}

const THUMB = 96;

export class Filmstrip {
  readonly frames: Frame[] = [];
  private shown = -1;

  constructor(
    private readonly list: HTMLOListElement,
    private readonly onSelect: (frame: Frame, index: number) => void,
  ) {}

  clear(): void {
    this.frames.length = 0;
    this.shown = -1;
    this.list.replaceChildren();
  }

  /** Adds a frame; its thumbnail is drawn from `drawn`, the canvas already showing it. */
  add(frame: Frame, drawn: HTMLCanvasElement): void {
    const index = this.frames.push(frame) - 1;
    const thumb = document.createElement('canvas');
    const s = THUMB / Math.max(drawn.width, drawn.height);
    thumb.width = Math.max(1, Math.round(drawn.width * s));
    thumb.height = Math.max(1, Math.round(drawn.height * s));
    thumb.getContext('2d')!.drawImage(drawn, 0, 0, thumb.width, thumb.height);
    const button = document.createElement('button');
    button.type = 'button';
    button.title = `show ${frame.name}`;
    const label = document.createElement('span');
    label.textContent = frame.name.replace(/^step /, '').replace(/\.[a-z]+$/i, '');
    button.append(thumb, label);
    button.addEventListener('click', () => this.select(index));
    const item = document.createElement('li');
    item.append(button);
    this.list.append(item);
    this.mark(index);
  }

  /** Shows frame `index` (through onSelect) and marks its thumbnail. */
  select(index: number): void {
    const frame = this.frames[index];
    if (!frame) return;
    this.mark(index);
    this.onSelect(frame, index);
  }

  /** The frame on show, or null. */
  get current(): Frame | null {
    return this.frames[this.shown] ?? null;
  }

  private mark(index: number): void {
    this.shown = index;
    this.list.querySelectorAll('button').forEach((b, i) => b.setAttribute('aria-current', String(i === index)));
  }
}
