// The page's decoders: one TAESD decoder for the current model, backend and weights (made again only
// when one of them changes), and a linear-preview decoder per model for the side-by-side view.
import { createDecoder, getModel, type BackendChoice, type Decoder, type ModelId, type WeightsSource } from 'taesd-web';
import { loadWeights, ORT_WASM, TAEF2_WEIGHTS_URL } from './shipped.js';

/** Weights the page can use, and what to call them. */
export interface WeightsRef {
  /** Identifies the bytes: a URL, or a dropped file's name and size. */
  readonly key: string;
  readonly label: string;
  readonly source: WeightsSource;
}

/** The decoder weights that ship with the package. */
export const SHIPPED_WEIGHTS: Partial<Record<ModelId, WeightsRef>> = {
  taef2: { key: TAEF2_WEIGHTS_URL, label: 'taef2_decoder.pth, shipped with the package', source: TAEF2_WEIGHTS_URL },
};

/** How to get a model's weights, for the page to say when it has none. */
export function weightsHowTo(model: ModelId): string {
  return `${model} has no weights here: npx taesd-web fetch-models ${model} saves ${getModel(model).weightsFile} in your per-user cache (~/.cache/taesd-web on Linux); drop that file on the page, or give a URL to a .pth/.safetensors. The linear backend needs no weights.`;
}

export class Decoders {
  private current: { key: string; decoder: Promise<Decoder> } | null = null;
  private readonly linear = new Map<ModelId, Promise<Decoder>>();

  /**
   * The TAESD decoder for these choices, and how long making it took (null when it was already
   * there). `weights` may be null for the linear backend only.
   */
  async get(model: ModelId, backend: BackendChoice, weights: WeightsRef | null): Promise<{ decoder: Decoder; startMs: number | null }> {
    if (backend !== 'linear' && !weights) throw new Error(weightsHowTo(model));
    const key = JSON.stringify([model, backend, backend === 'linear' ? null : weights!.key]);
    if (this.current?.key === key) return { decoder: await this.current.decoder, startMs: null };
    const old = this.current;
    this.current = null;
    old?.decoder.then((d) => d.destroy(), () => {});
    const t0 = performance.now();
    const decoder = (async () => {
      const options = { model, backend, wasm: ORT_WASM };
      if (backend === 'linear') return createDecoder(options);
      return createDecoder({ ...options, weights: await loadWeights(weights!.key, weights!.source) });
    })();
    this.current = { key, decoder };
    decoder.catch(() => {
      if (this.current?.decoder === decoder) this.current = null;
    });
    return { decoder: await decoder, startMs: performance.now() - t0 };
  }

  /** The linear preview for a model, or null when its family publishes no RGB factors (Sana). */
  async linearFor(model: ModelId): Promise<Decoder | null> {
    if (!getModel(model).latent.rgbFactors) return null;
    let d = this.linear.get(model);
    if (!d) this.linear.set(model, (d = createDecoder({ model, backend: 'linear' })));
    return d;
  }
}
