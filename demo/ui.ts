// Small DOM helpers shared by the demo's sections.
import { isTaesdError, type RgbaImage } from 'taesd-web';

export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
};

export type State = 'loading' | 'ready' | 'busy' | 'done' | 'stopped' | 'error';

/** Sets a status line; `data-state` styles errors and lets tests wait for a state. */
export function setStatus(el: HTMLElement, state: State, text: string): void {
  el.dataset.state = state;
  el.textContent = text;
}

/** An error as one line, with the TaesdError code when there is one. */
export function errorText(e: unknown): string {
  const code = isTaesdError(e) ? `${e.code}: ` : '';
  return `${code}${e instanceof Error ? e.message : String(e)}`;
}

/** Draws an RGBA image into a 2D canvas, resized to it. */
export function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage): void {
  if (canvas.width !== image.width || canvas.height !== image.height) {
    canvas.width = image.width;
    canvas.height = image.height;
  }
  const data = new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height);
  canvas.getContext('2d')!.putImageData(data, 0, 0);
}

export const ms = (t: number): string => (t >= 10_000 ? `${(t / 1000).toFixed(1)} s` : t >= 10 ? `${t.toFixed(0)} ms` : `${t.toFixed(1)} ms`);

/** Saves bytes as a file through a temporary link. */
export function download(bytes: Uint8Array, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Lets the page paint before the next piece of work. */
export const nextFrame = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
