// Drawing decodes into canvases: through the canvas's `webgpu` context where the backend renders
// on the GPU (no readback), else through `2d`. A canvas keeps its first context, so after a
// backend change a DOM canvas is swapped for a fresh copy in place, and later calls follow it.
import { fail } from '../errors.js';
import type { AnyLatentInput, DecodeOptions, BackendDecoder } from '../model/decoderTypes.js';

export type AnyCanvas = HTMLCanvasElement | OffscreenCanvas;

export interface Drawn {
  readonly width: number;
  readonly height: number;
  /** The canvas drawn into: the one given, or its replacement after a backend change. */
  readonly canvas: AnyCanvas;
}

export class CanvasPresenter {
  private readonly replaced = new WeakMap<AnyCanvas, AnyCanvas>();

  async draw(decoder: BackendDecoder, latent: AnyLatentInput, given: AnyCanvas, options?: DecodeOptions): Promise<Drawn> {
    let canvas = this.replaced.get(given) ?? given;
    // Backends that render on a device (WebGPU, the linear preview given one) draw through its `webgpu` context.
    const gpu = decoder.capabilities.gpu;
    if (gpu) {
      let context = canvas.getContext('webgpu') as GPUCanvasContext | null;
      if (!context) context = (canvas = this.swap(given, canvas, decoder)).getContext('webgpu') as GPUCanvasContext;
      return { ...(await gpu.decodeToCanvas(latent, context, options)), canvas };
    }
    const image = await decoder.decode(latent, options);
    type Context2d = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;
    let context = canvas.getContext('2d') as Context2d | null;
    if (!context) context = (canvas = this.swap(given, canvas, decoder)).getContext('2d') as Context2d;
    if (canvas.width !== image.width || canvas.height !== image.height) { canvas.width = image.width; canvas.height = image.height; }
    context.putImageData(new ImageData(image.data as Uint8ClampedArray<ArrayBuffer>, image.width, image.height), 0, 0);
    return { width: image.width, height: image.height, canvas };
  }

  /** A fresh copy of `canvas` (same attributes, no context) in its place in the page. */
  private swap(given: AnyCanvas, canvas: AnyCanvas, decoder: BackendDecoder): AnyCanvas {
    if (!('replaceWith' in canvas) || !canvas.isConnected) {
      fail('BAD_OPTION', `this canvas has a context the ${decoder.backend} backend cannot draw into, and it is not in a page to be swapped; use a fresh canvas (see onBackendChange)`);
    }
    const fresh = canvas.cloneNode(false) as HTMLCanvasElement;
    canvas.replaceWith(fresh);
    this.replaced.set(given, fresh);
    return fresh;
  }
}
