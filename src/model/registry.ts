import { fail } from '../errors.js';
import { F32_DECODER, FLUX2_POOL, TAESD_DECODER, decoderLayers, type Architecture, type Layer, type PoolSpec } from './architecture.js';
import { FAMILIES, type LatentFamily, type Rgb } from './families.js';

export type ModelId = 'taesd' | 'taesdxl' | 'taesd3' | 'taef1' | 'taef2' | 'taesana';

/** One upstream TAESD decoder: its id, what it is for and the latent space it reads. */
export interface ModelSpec {
  readonly id: ModelId;
  readonly label: string;
  readonly latent: LatentFamily;
  /** Upstream decoder file name (see models/manifest.json). */
  readonly weightsFile: string;
}

/** How a model is built, kept out of the public ModelSpec. */
interface ModelBuild {
  readonly architecture: Architecture;
  /** The GroupNorm branch in the first stage's blocks (`N.pool.*`): FLUX.2 only. */
  readonly pool: PoolSpec | null;
}

const model = (id: ModelId, label: string, latent: LatentFamily): ModelSpec => ({ id, label, latent, weightsFile: `${id}_decoder.pth` });

export const MODELS: Readonly<Record<ModelId, ModelSpec>> = {
  taesd: model('taesd', 'Stable Diffusion 1.x/2.x', FAMILIES.SD15),
  taesdxl: model('taesdxl', 'SDXL', FAMILIES.SDXL),
  taesd3: model('taesd3', 'Stable Diffusion 3', FAMILIES.SD3),
  taef1: model('taef1', 'FLUX.1', FAMILIES.Flux),
  taef2: model('taef2', 'FLUX.2', FAMILIES.Flux2),
  taesana: model('taesana', 'Sana', FAMILIES.Sana),
};

const TAESD: ModelBuild = { architecture: TAESD_DECODER, pool: null };
const BUILDS: Readonly<Record<ModelId, ModelBuild>> = {
  taesd: TAESD, taesdxl: TAESD, taesd3: TAESD, taef1: TAESD,
  taef2: { architecture: TAESD_DECODER, pool: FLUX2_POOL },
  taesana: { architecture: F32_DECODER, pool: null },
};

export const MODEL_IDS = Object.keys(MODELS) as ModelId[];

export function isModelId(id: unknown): id is ModelId {
  return typeof id === 'string' && Object.hasOwn(MODELS, id);
}

export function getModel(id: string): ModelSpec {
  if (!isModelId(id)) fail('MODEL_UNKNOWN', `unknown model ${JSON.stringify(String(id)).slice(0, 80)}: expected one of ${MODEL_IDS.join(', ')}`);
  return MODELS[id];
}

/** What a linear preview needs of a model (image or video): its id and latent family. */
export type LinearModel = Pick<ModelSpec, 'latent'> & { readonly id: string };

/** The family's latent-to-RGB factors; BAD_OPTION for a family that has none published (Sana). */
export function rgbFactors(model: LinearModel): readonly Rgb[] {
  return model.latent.rgbFactors ?? fail('BAD_OPTION', `no linear preview for ${model.id}: no latent-to-RGB factors are published for the ${model.latent.id} latent space; use the webgpu or wasm backend`, { reason: 'UNSUPPORTED' });
}

/** The model's upstream layer list. */
export function modelLayers(model: ModelSpec): Layer[] {
  const { architecture, pool } = BUILDS[model.id];
  return decoderLayers(architecture, model.latent.channels, pool);
}
