import { fail } from '../errors.js';
import type { StateDict, Tensor } from '../weights/tensor.js';
import { decoderLayers, POOL_WIDTH, WIDTH, type Layer } from './architecture.js';
import { getModel, MODELS, MODEL_IDS, type ModelId, type ModelSpec } from './registry.js';

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
  readonly expand: ConvWeights;
  readonly gamma: Float32Array;
  readonly beta: Float32Array;
  readonly reduce: ConvWeights;
}

export type LayerWeights =
  | { readonly kind: 'conv'; readonly conv: ConvWeights; readonly relu: boolean; readonly upsample: boolean }
  | { readonly kind: 'block'; readonly key: string; readonly convs: readonly [ConvWeights, ConvWeights, ConvWeights]; readonly pool: PoolWeights | null };

/** A validated decoder: the model it is for and every layer's tensors, in order. */
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

/**
 * Maps other layouts onto upstream keys: diffusers' AutoencoderTiny `decoder.layers.N.*` is
 * upstream `(N+1).*` (diffusers applies the tanh clamp in forward(), not as layer 0).
 */
export function upstreamKeys(dict: StateDict): StateDict {
  const out: StateDict = new Map();
  for (const [key, tensor] of dict) {
    const diffusers = /^(?:vae\.)?decoder\.layers\.(\d+)\.(.+)$/.exec(key);
    if (diffusers) out.set(`${Number(diffusers[1]) + 1}.${diffusers[2]}`, tensor);
    else if (/^(?:decoder\.)?\d+\./.test(key)) out.set(key.replace(/^decoder\./, ''), tensor);
  }
  return out;
}

/** Models whose layer shapes match the weights (SD/SDXL and SD3/FLUX.1 share shapes). */
export function matchingModels(dict: StateDict): ModelSpec[] {
  const first = dict.get('1.weight');
  if (!first || first.shape.length !== 4) return [];
  const pooled = dict.has('3.pool.0.weight');
  return MODEL_IDS.map((id) => MODELS[id]).filter((m) => m.latentChannels === first.shape[1] && m.pooledBlocks === pooled);
}

function describe(models: readonly ModelSpec[]): string {
  return models.length ? models.map((m) => m.id).join(' or ') : 'no known model';
}

function chooseModel(dict: StateDict, options: ResolveOptions): { model: ModelSpec; reason: string; guessed?: boolean } {
  const candidates = matchingModels(dict);
  const first = dict.get('1.weight');
  const found = first ? `1.weight [${first.shape.join(',')}]${dict.has('3.pool.0.weight') ? ' with pool branch' : ''}` : 'no 1.weight';
  if (options.model !== undefined) {
    const model = getModel(options.model);
    if (!candidates.includes(model)) {
      const expected = `1.weight [${WIDTH},${model.latentChannels},3,3]${model.pooledBlocks ? ' with pool branch (3.pool.*)' : ' without pool branch'}`;
      fail('MODEL_MISMATCH', `weights${options.sourceName ? ` ${options.sourceName}` : ''} do not fit model ${model.id}: expected ${expected}, found ${found} (matches ${describe(candidates)})`);
    }
    return { model, reason: 'given' };
  }
  if (candidates.length === 0) {
    if (!first) fail('WEIGHTS_MISSING_TENSOR', `weights${options.sourceName ? ` ${options.sourceName}` : ''} have no decoder tensor 1.weight: not a TAESD decoder`);
    fail('MODEL_MISMATCH', `weights${options.sourceName ? ` ${options.sourceName}` : ''} match no TAESD decoder: found ${found}`);
  }
  if (candidates.length === 1) return { model: candidates[0]!, reason: `detected from ${found}` };
  const name = (options.sourceName ?? '').toLowerCase().split(/[\\/]/).pop() ?? '';
  // Longest id first, so "taesdxl_decoder.pth" is not read as "taesd".
  const named = [...candidates].sort((a, b) => b.id.length - a.id.length).find((m) => name.includes(m.id));
  if (named) return { model: named, reason: `detected from ${found} and file name` };
  return {
    model: candidates[0]!,
    guessed: true,
    reason: `ambiguous: ${found} fits ${describe(candidates)} (identical decoders); chose ${candidates[0]!.id}, pass model to choose`,
  };
}

function tensor(dict: StateDict, key: string, shape: readonly number[]): Float32Array {
  const t: Tensor | undefined = dict.get(key);
  if (!t) fail('WEIGHTS_MISSING_TENSOR', `missing tensor ${key} (expected shape [${shape.join(',')}])`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    fail('WEIGHTS_SHAPE', `tensor ${key} has shape [${t.shape.join(',')}], expected [${shape.join(',')}]`);
  }
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

function layerWeights(dict: StateDict, layer: Layer): LayerWeights {
  if (layer.kind === 'conv') {
    return { kind: 'conv', conv: conv(dict, layer.key, layer.cin, layer.cout, 3, layer.bias), relu: layer.relu, upsample: layer.upsample };
  }
  const k = layer.key;
  const convs = [0, 2, 4].map((i) => conv(dict, `${k}.conv.${i}`, WIDTH, WIDTH, 3, true)) as [ConvWeights, ConvWeights, ConvWeights];
  const pool = layer.pool
    ? {
        expand: conv(dict, `${k}.pool.0`, WIDTH, POOL_WIDTH, 1, false),
        gamma: tensor(dict, `${k}.pool.1.weight`, [POOL_WIDTH]),
        beta: tensor(dict, `${k}.pool.1.bias`, [POOL_WIDTH]),
        reduce: conv(dict, `${k}.pool.3`, POOL_WIDTH, WIDTH, 1, false),
      }
    : null;
  return { kind: 'block', key: k, convs, pool };
}

/** Checks a state dict against the decoder architecture and returns its tensors in layer order. */
export function resolveDecoderWeights(dict: StateDict, options: ResolveOptions = {}): DecoderWeights {
  const upstream = upstreamKeys(dict);
  const { model, reason, guessed = false } = chooseModel(upstream, options);
  return { model, modelReason: reason, modelGuessed: guessed, layers: decoderLayers(model).map((l) => layerWeights(upstream, l)) };
}

export type { ModelId };
