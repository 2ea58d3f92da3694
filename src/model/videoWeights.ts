// TAEHV decoder weights: upstream's `decoder` nn.Sequential (taehv.py) as a layer list whose shapes
// are read from the tensors, the model told from those shapes (or the file name, as upstream keys
// its rules on it), and lightx2v's files in the same layout (ComfyUI's `decoder.22.bias` branch).
import { fail } from '../errors.js';
import type { StateDict } from '../weights/tensor.js';
import type { LatentSpace } from './decoderTypes.js';
import { VIDEO_MODELS, VIDEO_MODEL_IDS, getVideoModel, type VideoArch, type VideoModelSpec } from './videoRegistry.js';
import { sourceBaseName, tensor, type ConvWeights } from './weights.js';

/** A 7x7 (k x k) depthwise conv without bias, `[channels, 1, k, k]`. */
export interface DepthwiseWeights {
  readonly key: string;
  readonly channels: number;
  readonly k: number;
  readonly weight: Float32Array;
}

/** One entry of upstream's decoder Sequential with its tensors; `stage` numbers the three upscale stages. */
export type VideoLayerWeights =
  | { readonly kind: 'clamp' | 'relu'; readonly key: string }
  | { readonly kind: 'upsample' | 'pixelShuffle'; readonly key: string; readonly stage: number }
  | { readonly kind: 'conv'; readonly key: string; readonly conv: ConvWeights }
  /** `relu(conv.4(relu(conv.2(relu(conv.0(cat(x, past)))))) + skip(x))`. */
  | { readonly kind: 'memBlock'; readonly key: string; readonly convs: readonly [ConvWeights, ConvWeights, ConvWeights]; readonly skip: ConvWeights | null }
  /** `conv.3(relu(conv.1(depthwise conv.0(cat(x, past))))) + x`. */
  | { readonly kind: 'superMemBlock'; readonly key: string; readonly depthwise: DepthwiseWeights; readonly expand: ConvWeights; readonly project: ConvWeights }
  /** 1x1 conv to `n * stride` channels; the file may hold more rows than the stride used (patch_tgrow_layers). */
  | { readonly kind: 'tgrow'; readonly key: string; readonly stage: number; readonly conv: ConvWeights };

export interface VideoWeights {
  readonly model: VideoModelSpec;
  readonly modelReason: string;
  /** The space the file expects its latents in: madebyollin's files take the sampler's latents ('model'), lightx2v's raw VAE latents ('vae'). */
  readonly latentSpace: LatentSpace;
  readonly layers: readonly VideoLayerWeights[];
}

export interface VideoResolveOptions {
  readonly model?: string;
  readonly sourceName?: string;
}

/** Element cap when parsing a TAEHV file (the super decoders hold ~19M weights; a .pth counts storages and views). */
export const VIDEO_MAX_ELEMENTS = 2 ** 27;

type Kind = 'clamp' | 'relu' | 'conv' | 'convNoBias' | 'memBlock' | 'superMemBlock' | 'upsample' | 'pixelShuffle' | 'tgrow';

/** Upstream's decoder Sequential, index = state-dict prefix (the final pixel shuffle is postprocessing). */
export function videoLayerKinds(arch: VideoArch): Kind[] {
  if (arch === 'super') {
    const stage: Kind[] = ['superMemBlock', 'superMemBlock', 'superMemBlock', 'conv', 'relu', 'pixelShuffle', 'tgrow'];
    return ['convNoBias', ...stage, ...stage, ...stage, 'conv'];
  }
  const stage: Kind[] = ['memBlock', 'memBlock', 'memBlock', 'upsample', 'tgrow', 'convNoBias'];
  return ['clamp', 'conv', 'relu', ...stage, ...stage, ...stage, 'relu', 'conv'];
}

/** A conv whose shape is the tensor's own: `[cout, cin, k, k]`, k = 1 or 3. */
function conv(dict: StateDict, key: string, bias: boolean): ConvWeights {
  const w = dict.get(`${key}.weight`) ?? fail('WEIGHTS_MISSING_TENSOR', `missing decoder tensor decoder.${key}.weight: not a complete TAEHV decoder`);
  const [cout, cin, k, k2] = w.shape as [number, number, number, number];
  if (w.shape.length !== 4 || k !== k2 || (k !== 1 && k !== 3)) fail('WEIGHTS_SHAPE', `tensor decoder.${key}.weight has shape [${w.shape.join(',')}], expected a 1x1 or 3x3 conv [cout,cin,k,k]`);
  return { key, cin, cout, k, weight: tensor(dict, `${key}.weight`, w.shape), bias: bias ? tensor(dict, `${key}.bias`, [cout]) : null };
}

function layer(dict: StateDict, kind: Kind, key: string, stage: number): VideoLayerWeights {
  switch (kind) {
    case 'clamp': case 'relu': return { kind, key };
    case 'upsample': case 'pixelShuffle': return { kind, key, stage };
    case 'conv': case 'convNoBias': return { kind: 'conv', key, conv: conv(dict, key, kind === 'conv') };
    case 'tgrow': return { kind, key, stage, conv: conv(dict, `${key}.conv`, false) };
    case 'memBlock': {
      const convs = [0, 2, 4].map((i) => conv(dict, `${key}.conv.${i}`, true)) as [ConvWeights, ConvWeights, ConvWeights];
      return { kind, key, convs, skip: dict.has(`${key}.skip.weight`) ? conv(dict, `${key}.skip`, false) : null };
    }
    case 'superMemBlock': {
      const w = dict.get(`${key}.conv.0.weight`) ?? fail('WEIGHTS_MISSING_TENSOR', `missing decoder tensor decoder.${key}.conv.0.weight: not a complete TAEHV super decoder`);
      const [channels, one, k] = w.shape as [number, number, number];
      if (w.shape.length !== 4 || one !== 1 || w.shape[3] !== k) fail('WEIGHTS_SHAPE', `tensor decoder.${key}.conv.0.weight has shape [${w.shape.join(',')}], expected a depthwise [c,1,k,k]`);
      const depthwise = { key: `${key}.conv.0`, channels, k, weight: tensor(dict, `${key}.conv.0.weight`, w.shape) };
      return { kind, key, depthwise, expand: conv(dict, `${key}.conv.1`, true), project: conv(dict, `${key}.conv.3`, false) };
    }
  }
}

/** `decoder.N.*` (whole checkpoints, decoder-only dicts) or bare `N.*` keys; `encoder.*` tensors are dropped. */
export function videoDecoderKeys(dict: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, t] of dict) {
    const m = /^(?:decoder\.)?(\d+\..+)$/.exec(key);
    if (m) out.set(m[1]!, t);
  }
  return out;
}

/** What the tensors tell: super or base, latent channels, patch. */
function shapeFacts(dict: StateDict, source: string): { arch: VideoArch; channels: number; patch: number; found: string } {
  const arch: VideoArch = dict.has('0.weight') ? 'super' : 'base';
  const first = dict.get(arch === 'super' ? '0.weight' : '1.weight');
  const out = dict.get('22.bias');
  if (!first || !out) fail('WEIGHTS_MISSING_TENSOR', `weights${source} have no ${first ? 'decoder.22.bias' : 'decoder.1.weight'}: not a TAEHV decoder (checked decoder.* keys)`);
  const channels = first.shape[1] ?? 0, patch = Math.round(Math.sqrt((out.shape[0] ?? 0) / 3));
  return { arch, channels, patch, found: `${arch} decoder, ${channels} latent channels, patch ${patch}` };
}

/** lightx2v's file names (ComfyUI `models/vae_approx`) for the models they share a layout with. */
const LIGHTX2V: Readonly<Record<string, VideoModelSpec>> = { lighttaew2_1: VIDEO_MODELS.taew2_1, lighttaew2_2: VIDEO_MODELS.taew2_2, lighttaehy1_5: VIDEO_MODELS.taehv1_5 };

/** Whether a weights file's name names a TAEHV model (upstream's ids, lightx2v's names): upstream picks its per-model rules by that name. */
export function namesVideoModel(sourceName: string): boolean {
  const name = sourceBaseName(sourceName);
  return VIDEO_MODEL_IDS.some((id) => name.includes(id)) || Object.keys(LIGHTX2V).some((n) => name.includes(n));
}

function chooseModel(dict: StateDict, options: VideoResolveOptions): { model: VideoModelSpec; reason: string; latentSpace: LatentSpace } {
  const source = options.sourceName ? ` ${options.sourceName}` : '';
  const { arch, channels, patch, found } = shapeFacts(dict, source);
  const fits = VIDEO_MODEL_IDS.map((id) => VIDEO_MODELS[id]).filter((m) => m.arch === arch && m.latentChannels === channels && m.patch === patch);
  const name = sourceBaseName(options.sourceName);
  const light = Object.keys(LIGHTX2V).find((n) => name.includes(n));
  // ComfyUI's rule: taehv's 16-channel files are float16 only, so other dtypes are lighttaew2_1.
  const lightByDtype = channels === 16 && arch === 'base' && dict.get('1.weight')!.dtype !== 'F16';
  const latentSpace: LatentSpace = light || lightByDtype ? 'vae' : 'model';
  const list = fits.map((m) => m.id).join(', ') || 'none';
  if (options.model !== undefined) {
    const model = getVideoModel(options.model);
    if (!fits.includes(model)) fail('MODEL_MISMATCH', `weights${source} do not fit video model ${model.id} (${model.arch} decoder, ${model.latentChannels} latent channels, patch ${model.patch}): found ${found}; fits ${list}`);
    return { model, reason: 'given', latentSpace };
  }
  if (fits.length === 0) fail('MODEL_MISMATCH', `weights${source} fit no TAEHV model: found ${found}`);
  if (fits.length === 1) return { model: fits[0]!, reason: `detected from ${found}`, latentSpace };
  const named = light ? LIGHTX2V[light] : [...fits].sort((a, b) => b.id.length - a.id.length).find((m) => name.includes(m.id));
  if (named && fits.includes(named)) return { model: named, reason: `detected from ${found} and file name`, latentSpace };
  if (lightByDtype) return { model: VIDEO_MODELS.taew2_1, reason: `detected from ${found}, not float16: lightx2v's lighttaew2_1 (as ComfyUI reads it)`, latentSpace };
  fail('MODEL_AMBIGUOUS', `weights${source} (${found}) fit ${list}, which differ in frame rules: pass model (one of ${list})`);
}

/** Checks a TAEHV state dict (whole checkpoint or decoder only) and returns the decoder's tensors in layer order. */
export function resolveVideoWeights(dict: StateDict, options: VideoResolveOptions = {}): VideoWeights {
  const decoder = videoDecoderKeys(dict);
  const { model, reason, latentSpace } = chooseModel(decoder, options);
  let stage = 0;
  const layers = videoLayerKinds(model.arch).map((kind, i) => {
    const l = layer(decoder, kind, String(i), stage);
    if (kind === 'tgrow') stage++;
    return l;
  });
  return { model, modelReason: reason, latentSpace, layers };
}
