import { fail } from '../errors.js';
import type { DType, StateDict, Tensor } from '../weights/tensor.js';
import type { Layer, PoolSpec } from './architecture.js';
import { MODELS, MODEL_IDS, getModel, modelLayers, type ModelId, type ModelSpec } from './registry.js';

export interface ConvWeights {
  readonly key: string;
  readonly cin: number;
  readonly cout: number;
  /** Kernel size: 3 or 1. */
  readonly k: number;
  /** `[cout, cin, k, k]`, PyTorch layout. */
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
}

/** taef2's `x += conv1x1(relu(groupnorm(conv1x1(x))))` branch. */
export interface PoolWeights {
  readonly spec: PoolSpec;
  readonly expand: ConvWeights;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly reduce: ConvWeights;
}

/** A layer of the upstream list with its tensors. */
export type LayerWeights =
  | { readonly kind: 'clamp' | 'relu' | 'upsample'; readonly key: string }
  | { readonly kind: 'conv'; readonly key: string; readonly conv: ConvWeights }
  | { readonly kind: 'block'; readonly key: string; readonly convs: readonly [ConvWeights, ConvWeights, ConvWeights]; readonly pool: PoolWeights | null };

/** A validated decoder: the model it is for and every layer's tensors, in upstream order. */
export interface DecoderWeights {
  readonly model: ModelSpec;
  /** How `model` was chosen, for messages and the decoder's `modelReason` field. */
  readonly modelReason: string;
  /** The weights fit several models (identical decoders) and no id or file name chose one. */
  readonly modelGuessed: boolean;
  readonly layers: readonly LayerWeights[];
}

export interface ResolveOptions {
  /** Model id the caller asked for; checked against the weights. */
  readonly model?: string;
  /** File name or URL of the weights, used only to tell apart models with identical shapes. */
  readonly sourceName?: string;
}

/** Element types decoder weights may be stored in; integers and booleans are no decoder's. */
const FLOAT_DTYPES: readonly DType[] = ['F32', 'F16', 'BF16', 'F64'];

/**
 * Maps other layouts onto upstream keys: diffusers' AutoencoderTiny `decoder.layers.N.*` is
 * upstream `(N+1).*` (diffusers applies the tanh clamp in forward(), not as layer 0).
 */
export function upstreamKeys(dict: StateDict): StateDict {
  const out: StateDict = new Map();
  const from = new Map<string, string>();
  for (const [key, tensor] of dict) {
    const diffusers = /^(?:vae\.)?decoder\.layers\.(\d+)\.(.+)$/.exec(key);
    const upstream = diffusers ? `${Number(diffusers[1]) + 1}.${diffusers[2]}` : /^(?:decoder\.)?\d+\./.test(key) ? key.replace(/^decoder\./, '') : null;
    if (upstream === null) continue;
    // Two names for one tensor: which one the file meant cannot be told, so neither is guessed.
    const other = from.get(upstream);
    if (other !== undefined) fail('WEIGHTS_CORRUPT', `tensors ${other} and ${key} are both ${upstream}; keep one layout (upstream or diffusers)`, { reason: 'MALFORMED' });
    from.set(upstream, key);
    out.set(upstream, tensor);
  }
  return out;
}

/** What identifies a model in its weights: the first conv's shape and whether the first block has a pool branch. */
function signature(model: ModelSpec): { first: readonly number[]; poolKey: string; pooled: boolean } {
  const layers = modelLayers(model);
  const conv = layers.find((l) => l.kind === 'conv') as Extract<Layer, { kind: 'conv' }>;
  const block = layers.find((l) => l.kind === 'block') as Extract<Layer, { kind: 'block' }>;
  return { first: [conv.cout, conv.cin, conv.k, conv.k], poolKey: `${block.key}.pool.0.weight`, pooled: block.pool !== null };
}

/** Models whose layer shapes match the weights (SD/SDXL and SD3/FLUX.1 share shapes). */
export function matchingModels(dict: StateDict): ModelSpec[] {
  const first = dict.get('1.weight');
  if (!first) return [];
  return MODEL_IDS.map((id) => MODELS[id]).filter((m) => {
    const s = signature(m);
    return s.first.length === first.shape.length && s.first.every((d, i) => d === first.shape[i]) && s.pooled === dict.has(s.poolKey);
  });
}

function describe(models: readonly ModelSpec[]): string {
  return models.length ? models.map((m) => m.id).join(' or ') : 'no known model';
}

/** A weights source's file name, lower-cased, without its folders: what upstream's name rules read. */
export const sourceBaseName = (sourceName: string | undefined): string => (sourceName ?? '').toLowerCase().split(/[\\/]/).pop() ?? '';

function chooseModel(dict: StateDict, options: ResolveOptions): { model: ModelSpec; reason: string; guessed?: boolean } {
  const candidates = matchingModels(dict);
  const first = dict.get('1.weight');
  const pooled = [...dict.keys()].some((k) => /^\d+\.pool\.0\.weight$/.test(k));
  const found = first ? `1.weight [${first.shape.join(',')}]${pooled ? ' with pool branch' : ''}` : 'no 1.weight';
  const source = options.sourceName ? ` ${options.sourceName}` : '';
  if (options.model !== undefined) {
    const model = getModel(options.model);
    if (!candidates.includes(model)) {
      const s = signature(model);
      const expected = `1.weight [${s.first.join(',')}]${s.pooled ? ` with pool branch (${s.poolKey})` : ' without pool branch'}`;
      fail('MODEL_MISMATCH', `weights${source} do not fit model ${model.id}: expected ${expected}, found ${found} (matches ${describe(candidates)})`);
    }
    return { model, reason: 'given' };
  }
  if (candidates.length === 0) {
    if (!first) fail('WEIGHTS_MISSING_TENSOR', `weights${source} have no decoder tensor 1.weight: not a TAESD decoder`);
    // A TGrow's bare 1x1 conv (`N.conv.weight`) is TAEHV's alone.
    const video = [...dict.keys()].some((k) => /^\d+\.conv\.weight$/.test(k)) ? ' (TAEHV video decoder weights: give a video model id)' : '';
    fail('MODEL_MISMATCH', `weights${source} match no TAESD decoder: found ${found}${video}`);
  }
  if (candidates.length === 1) return { model: candidates[0]!, reason: `detected from ${found}` };
  const name = sourceBaseName(options.sourceName);
  // Longest id first, so "taesdxl_decoder.pth" is not read as "taesd".
  const named = [...candidates].sort((a, b) => b.id.length - a.id.length).find((m) => name.includes(m.id));
  if (named) return { model: named, reason: `detected from ${found} and file name` };
  return {
    model: candidates[0]!,
    guessed: true,
    reason: `ambiguous: ${found} fits ${describe(candidates)} (identical decoders); chose ${candidates[0]!.id}, pass model to choose`,
  };
}

export function tensor(dict: StateDict, key: string, shape: readonly number[]): Float32Array {
  const t: Tensor | undefined = dict.get(key);
  if (!t) fail('WEIGHTS_MISSING_TENSOR', `missing tensor ${key} (expected shape [${shape.join(',')}])`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail('WEIGHTS_SHAPE', `tensor ${key} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  }
  if (!FLOAT_DTYPES.includes(t.dtype)) fail('WEIGHTS_CORRUPT', `tensor ${key} is stored as ${t.dtype}; decoder weights are floats (${FLOAT_DTYPES.join(', ')})`);
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i])) fail('WEIGHTS_CORRUPT', `tensor ${key} holds a non-finite value at element ${i}`);
  }
  return t.data;
}

function conv(dict: StateDict, key: string, cin: number, cout: number, k: number, bias: boolean): ConvWeights {
  return {
    key, cin, cout, k,
    weight: tensor(dict, `${key}.weight`, [cout, cin, k, k]),
    bias: bias ? tensor(dict, `${key}.bias`, [cout]) : null,
  };
}

function pool(dict: StateDict, key: string, channels: number, spec: PoolSpec): PoolWeights {
  return {
    spec,
    expand: conv(dict, `${key}.pool.0`, channels, spec.width, 1, false),
    gamma: tensor(dict, `${key}.pool.1.weight`, [spec.width]),
    beta: tensor(dict, `${key}.pool.1.bias`, [spec.width]),
    reduce: conv(dict, `${key}.pool.3`, spec.width, channels, 1, false),
  };
}

function layerWeights(dict: StateDict, layer: Layer): LayerWeights {
  switch (layer.kind) {
    case 'conv':
      return { kind: 'conv', key: layer.key, conv: conv(dict, layer.key, layer.cin, layer.cout, layer.k, layer.bias) };
    case 'block': {
      const c = layer.channels;
      const convs = [0, 2, 4].map((i) => conv(dict, `${layer.key}.conv.${i}`, c, c, 3, true)) as [ConvWeights, ConvWeights, ConvWeights];
      return { kind: 'block', key: layer.key, convs, pool: layer.pool ? pool(dict, layer.key, c, layer.pool) : null };
    }
    default:
      return { kind: layer.kind, key: layer.key };
  }
}

/** Checks a state dict against the decoder architecture and returns its tensors in layer order. */
export function resolveDecoderWeights(dict: StateDict, options: ResolveOptions = {}): DecoderWeights {
  const upstream = upstreamKeys(dict);
  const { model, reason, guessed = false } = chooseModel(upstream, options);
  return { model, modelReason: reason, modelGuessed: guessed, layers: modelLayers(model).map((l) => layerWeights(upstream, l)) };
}

export type { ModelId };
