// A viewer of ComfyUI's sampler steps: connects to the bridge's websocket route
// (integrations/comfyui: /taesd-web/ws), decodes each step message on this machine and yields
// the previews. Steps that arrive while one decodes are dropped but the newest.
import { createDecoder, type CreateDecoderOptions } from '../decoder.js';
import { fail, isTaesdError, TaesdError } from '../errors.js';
import { comfyProcessOut } from '../model/comfyFormats.js';
import type { LatentDecoder } from '../model/decoderTypes.js';
import { isModelId, MODEL_IDS } from '../model/registry.js';
import type { RgbaImage } from '../model/rgba.js';
import { isVideoModelId, VIDEO_MODEL_IDS } from '../model/videoRegistry.js';
import { createVideoDecoder, type CreateVideoDecoderOptions, type VideoDecoder } from '../videoDecoder.js';
import type { WeightsSource } from '../weights/load.js';
import { batchItem, parseStepMessage, type StepMessage } from './message.js';

export const COMFY_ROUTE = '/taesd-web/ws';

type AnyDecoder = { readonly kind: 'image'; readonly decoder: LatentDecoder } | { readonly kind: 'video'; readonly decoder: VideoDecoder };

export interface ComfyPreviewOptions {
  /** The ComfyUI server (`http://127.0.0.1:8188`) or the route's full `ws://`/`wss://` URL. */
  readonly url: string | URL;
  /** Only this prompt's steps; default all prompts. `subscribe()` changes it later. */
  readonly promptId?: string;
  /** The weights of a decoder id (`taef2`, `taew2_1`, ...), or a promise of them (e.g. from a cache); not needed for `backend: 'linear'`. */
  readonly weights?: (model: string) => WeightsSource | undefined | Promise<WeightsSource | undefined>;
  /** Passed to createDecoder for image formats (backend, precision, device, ...). */
  readonly decoder?: Omit<CreateDecoderOptions, 'model' | 'weights'>;
  /** Passed to createVideoDecoder for video formats (TAEHV on onnxruntime: backend, wasm paths, ...). */
  readonly videoDecoder?: Omit<CreateVideoDecoderOptions, 'model' | 'weights'>;
  /** Decode every item of a batch; default the first only, as ComfyUI's own preview does. */
  readonly allBatchItems?: boolean;
  /** Stops the previews and closes the socket. */
  readonly signal?: AbortSignal;
  /** A WebSocket class where there is no global one. */
  readonly WebSocket?: typeof WebSocket;
}

/**
 * One decoded step, or why it could not be decoded (a typed error; the stream goes on). `images`:
 * an image per batch item decoded (image formats), or the frames of the first item (video).
 */
export type ComfyPreview =
  | { readonly message: StepMessage; readonly kind: 'image' | 'video'; readonly images: RgbaImage[]; readonly error?: undefined; readonly decodeMs: number }
  | { readonly message: StepMessage | null; readonly images?: undefined; readonly error: TaesdError };

/** The route's URL for a server URL (http -> ws, https -> wss) or the URL itself when it is one. */
export function comfyRouteUrl(url: string | URL, promptId?: string): string {
  const u = new URL(String(url));
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.pathname = u.pathname.replace(/\/$/, '') + COMFY_ROUTE;
  } else if (u.protocol !== 'ws:' && u.protocol !== 'wss:') fail('BAD_OPTION', `url must be http(s) or ws(s), got ${u.protocol}`);
  if (promptId !== undefined) u.searchParams.set('prompt_id', promptId);
  return u.toString();
}

export class ComfyPreviewClient {
  private readonly socket: WebSocket;
  private readonly decoders = new Map<string, Promise<AnyDecoder>>();
  private pending: ArrayBuffer | null = null;
  private wake: (() => void) | null = null;
  private closed = false;
  /** Messages dropped because a newer one arrived before they were decoded. */
  skipped = 0;

  constructor(private readonly options: ComfyPreviewOptions) {
    const Socket = options.WebSocket ?? globalThis.WebSocket ?? fail('BAD_OPTION', 'no WebSocket here: pass options.WebSocket');
    this.socket = new Socket(comfyRouteUrl(options.url, options.promptId));
    this.socket.binaryType = 'arraybuffer';
    this.socket.addEventListener('message', (ev: MessageEvent) => {
      if (typeof ev.data === 'string') return; // the server's hello and other notices
      if (this.pending) this.skipped++;
      this.pending = ev.data as ArrayBuffer;
      this.wake?.();
    });
    const end = () => { this.closed = true; this.wake?.(); };
    this.socket.addEventListener('close', end);
    this.socket.addEventListener('error', end);
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** Follow one prompt's steps, or all (`'*'`). */
  subscribe(promptId: string): void {
    const send = () => this.socket.send(JSON.stringify({ subscribe: promptId }));
    if (this.socket.readyState === this.socket.OPEN) send();
    else this.socket.addEventListener('open', send, { once: true });
  }

  /** The decoded previews in order, each of the newest step received; ends when the socket closes or `close()` is called. */
  async *previews(): AsyncGenerator<ComfyPreview> {
    try {
      for (;;) {
        if (!this.pending) {
          if (this.closed) return;
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = null;
          continue;
        }
        const bytes = new Uint8Array(this.pending);
        this.pending = null;
        yield await this.decode(bytes);
      }
    } finally {
      this.close();
    }
  }

  /** Decodes one message (as received, or read from disk). */
  async decode(bytes: Uint8Array): Promise<ComfyPreview> {
    let message: StepMessage | null = null;
    try {
      message = parseStepMessage(bytes);
      const d = await this.decoderFor(message.model);
      const started = performance.now();
      if (d.kind === 'video') {
        // Lightx2v's weights read the VAE's space: ComfyUI's process_out first, as its previewer does.
        const first = batchItem(message.latent, 0);
        const latent = d.decoder.latentSpace === 'vae' ? comfyProcessOut(message.latentFormat, first) : first;
        const images = await d.decoder.decodeVideo(latent);
        return { message, kind: 'video', images, decodeMs: performance.now() - started };
      }
      const latent = this.options.allBatchItems ? message.latent : batchItem(message.latent, 0);
      const images = await d.decoder.decodeBatch(latent);
      return { message, kind: 'image', images, decodeMs: performance.now() - started };
    } catch (e) {
      if (!isTaesdError(e)) throw e;
      return { message, error: e };
    }
  }

  private decoderFor(model: string): Promise<AnyDecoder> {
    let d = this.decoders.get(model);
    if (!d) {
      d = this.createDecoder(model);
      this.decoders.set(model, d);
      d.catch(() => this.decoders.delete(model)); // a failed load is tried again on the next step
    }
    return d;
  }

  private async createDecoder(model: string): Promise<AnyDecoder> {
    // Checked before any weights are fetched.
    if (!isModelId(model) && !isVideoModelId(model)) throw new TaesdError('MODEL_UNKNOWN', `no decoder ${JSON.stringify(model)} here (models: ${[...MODEL_IDS, ...VIDEO_MODEL_IDS].join(', ')})`);
    const weights = await this.options.weights?.(model);
    if (isModelId(model)) return { kind: 'image', decoder: await createDecoder({ ...this.options.decoder, model, ...(weights !== undefined && { weights }) }) };
    const source = weights ?? fail('BAD_OPTION', `the ${model} video decoder needs weights: give options.weights`);
    return { kind: 'video', decoder: await createVideoDecoder({ ...this.options.videoDecoder, model, weights: source }) };
  }

  /** Closes the socket and frees the decoders. */
  close(): void {
    if (this.socket.readyState <= this.socket.OPEN) this.socket.close();
    this.closed = true;
    this.pending = null;
    this.wake?.();
    for (const d of this.decoders.values()) d.then((x) => x.decoder.destroy(), () => {});
    this.decoders.clear();
  }
}
