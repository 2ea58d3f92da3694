// Where the test page (test.ts) finds its inputs, and small loaders for
// them. The dev server (vite.config.ts) maps /shared/* to the project's ../shared folder and /ort/*
// to onnxruntime-web's dist folder. The demo itself reads only what ships (shipped.ts).
import { parseSafetensors, type LatentInput, type StateDict } from 'taesd-web';
import { fetchBytes, loadWeights as loadWeightsOnce } from './shipped.js';

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

/** Reads a safetensors file holding a `latent` tensor (and optionally `image`, as the goldens do). */
export async function loadLatentFile(url: string): Promise<Golden> {
  const { tensors } = parseSafetensors(await fetchBytes(url), url);
  const latent = tensors.get('latent');
  if (!latent) throw new Error(`${url} has no "latent" tensor (it has: ${[...tensors.keys()].join(', ')})`);
  const image = tensors.get('image');
  return { latent: { data: latent.data, shape: latent.shape }, image: image ? { data: image.data, shape: image.shape } : null };
}

/** Fetches and parses weights once per URL (.safetensors or .pth); later calls share the state dict. */
export function loadWeights(url: string): Promise<StateDict> {
  return loadWeightsOnce(url, url);
}
