// What the demo decodes with no downloads: the files that ship in the package, imported as assets
// (a build copies them next to the page), and onnxruntime-web's .wasm, served the same way.
import { loadStateDict, type StateDict, type WeightsSource } from 'taesd-web';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import taef2Weights from '../models/taef2_decoder.pth?url';
import astronaut from '../examples/astronaut.safetensors?url';
import wanExample from '../examples/wan.safetensors?url';

/** The TAEF2 (FLUX.2) decoder, upstream's file as published (MIT, models/LICENSE-taesd). */
export const TAEF2_WEIGHTS_URL: string = taef2Weights;

/** A real photo encoded by the TAEF2 encoder: 32 x 64 x 64, float16. */
export const ASTRONAUT_URL: string = astronaut;

/** A real Wan 2.1 latent [1,16,5,40,64], bf16 (upstream taehv's test latent, cropped; MIT, examples/LICENSE-taehv). */
export const WAN_EXAMPLE_URL: string = wanExample;

/** examples/steps/step_00..07: a synthetic 8-step run at 16 x 16, in step order. */
export const EXAMPLE_STEP_URLS: readonly { name: string; url: string }[] = Object.entries(
  import.meta.glob<string>('../examples/steps/*.safetensors', { query: '?url', import: 'default', eager: true }),
)
  .map(([path, url]) => ({ name: path.slice(path.lastIndexOf('/') + 1), url }))
  .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));

/** `createDecoder({ wasm: ORT_WASM })`: the WASM backend's runtime, from this site (no CDN). */
export const ORT_WASM = { wasmPaths: { wasm: ortWasm } } as const;

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

const weightsCache = new Map<string, Promise<StateDict>>();

/** Parses weights once per key (a URL, or a dropped file's name and size); later calls share them. */
export function loadWeights(key: string, source: WeightsSource): Promise<StateDict> {
  let dict = weightsCache.get(key);
  if (!dict) {
    dict = loadStateDict(source).then((r) => r.dict);
    dict.catch(() => weightsCache.delete(key));
    weightsCache.set(key, dict);
  }
  return dict;
}
