// Where the demo and the test page find their inputs, and small loaders for them.
// The dev server (vite.config.ts) maps /shared/* to the project's ../shared folder and /ort/* to
// onnxruntime-web's dist folder; a real app would serve its own copies at URLs of its choosing.
import { loadStateDict, parseSafetensors, type LatentInput, type StateDict } from 'taesd-web';

/** The bundled-for-development TAEF2 (FLUX.2) decoder weights. */
export const TAEF2_WEIGHTS_URL = '/shared/models/taef2_decoder.safetensors';

/** A golden case: a latent and the reference decoder's raw output. */
export const goldenUrl = (name: string): string => `/shared/golden/${name}.safetensors`;

/** onnxruntime-web's files, served locally (no CDN): `createDecoder({ wasm: { wasmPaths: ORT_WASM_PATHS } })`. */
export const ORT_WASM_PATHS = '/ort/';

export interface Golden {
  readonly latent: LatentInput & { readonly data: Float32Array };
  /** The reference decoder's raw output, planar [3, H, W]; null if the file has none. */
  readonly image: { readonly data: Float32Array; readonly shape: readonly number[] } | null;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads a safetensors file holding a `latent` tensor (and optionally `image`, as the goldens do). */
export async function loadLatentFile(url: string): Promise<Golden> {
  const { tensors } = parseSafetensors(await fetchBytes(url), url);
  const latent = tensors.get('latent');
  if (!latent) throw new Error(`${url} has no "latent" tensor (it has: ${[...tensors.keys()].join(', ')})`);
  const image = tensors.get('image');
  return { latent: { data: latent.data, shape: latent.shape }, image: image ? { data: image.data, shape: image.shape } : null };
}

const weightsCache = new Map<string, Promise<StateDict>>();

/** Fetches and parses weights once per URL (.safetensors or .pth); later calls share the state dict. */
export function loadWeights(url: string): Promise<StateDict> {
  let dict = weightsCache.get(url);
  if (!dict) {
    dict = loadStateDict(url).then((r) => r.dict);
    dict.catch(() => weightsCache.delete(url));
    weightsCache.set(url, dict);
  }
  return dict;
}
