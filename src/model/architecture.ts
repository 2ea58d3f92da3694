// The decoder architectures as upstream (github.com/madebyollin/taesd, taesd.py) builds them: an
// nn.Sequential whose indices are the state-dict prefixes. Everything that runs or measures a
// decoder reads this list through the lowered graph (graph.ts); no width or scale lives elsewhere.

/** taef2's GroupNorm branch inside a block: 1x1 conv up to `width`, GroupNorm, ReLU, 1x1 conv back. */
export interface PoolSpec {
  readonly width: number;
  readonly groups: number;
  readonly eps: number;
}

/** One entry of upstream's `nn.Sequential` decoder; `key` is its index there. */
export type Layer =
  /** `x = tanh(x / 3) * 3`. */
  | { readonly kind: 'clamp'; readonly key: string }
  /** Zero-padded `k` x `k` conv (k = 3 in every decoder). */
  | { readonly kind: 'conv'; readonly key: string; readonly cin: number; readonly cout: number; readonly k: number; readonly bias: boolean }
  | { readonly kind: 'relu'; readonly key: string }
  /** Nearest-neighbour x2. */
  | { readonly kind: 'upsample'; readonly key: string }
  /** `Block(c, c)`: `[x += pool(x)]; out = relu(conv.4(relu(conv.2(relu(conv.0(x))))) + x)`, 3x3 convs with bias. */
  | { readonly kind: 'block'; readonly key: string; readonly channels: number; readonly pool: PoolSpec | null };

/** A decoder family: feature widths per resolution stage and blocks per stage, then 3x3 to RGB. */
export interface Architecture {
  /** Upstream's class name. */
  readonly id: 'Decoder' | 'F32Decoder';
  /** Feature width of each stage, latent resolution first; each later stage follows a nearest x2. */
  readonly widths: readonly number[];
  /** Blocks in each stage. */
  readonly blocks: readonly number[];
}

/** TAESD's `Decoder` (SD, SDXL, SD3, FLUX.1, FLUX.2): 64 wide, three upsamples, 8x. */
export const TAESD_DECODER: Architecture = { id: 'Decoder', widths: [64, 64, 64, 64], blocks: [3, 3, 3, 1] };
/** TAESD's `F32Decoder` (Sana's DC-AE): 256, 128 then 64 wide, five upsamples, 32x. */
export const F32_DECODER: Architecture = { id: 'F32Decoder', widths: [256, 128, 64, 64, 64, 64], blocks: [3, 3, 3, 3, 3, 1] };

/** taef2's pool branch: 4 groups over 256 channels, PyTorch's default eps. */
export const FLUX2_POOL: PoolSpec = { width: 256, groups: 4, eps: 1e-5 };

/**
 * The upstream layer list of `arch` for `latentChannels` inputs; `pool` goes into the blocks of
 * the first stage (taef2's blocks 3-5).
 */
export function decoderLayers(arch: Architecture, latentChannels: number, pool: PoolSpec | null = null): Layer[] {
  const layers: Layer[] = [];
  const key = () => String(layers.length);
  const [first] = arch.widths as [number];
  layers.push({ kind: 'clamp', key: key() });
  layers.push({ kind: 'conv', key: key(), cin: latentChannels, cout: first, k: 3, bias: true });
  layers.push({ kind: 'relu', key: key() });
  arch.widths.forEach((width, stage) => {
    for (let b = 0; b < arch.blocks[stage]!; b++) layers.push({ kind: 'block', key: key(), channels: width, pool: stage === 0 ? pool : null });
    const next = arch.widths[stage + 1];
    if (next === undefined) return;
    layers.push({ kind: 'upsample', key: key() });
    layers.push({ kind: 'conv', key: key(), cin: width, cout: next, k: 3, bias: false });
  });
  layers.push({ kind: 'conv', key: key(), cin: arch.widths[arch.widths.length - 1]!, cout: 3, k: 3, bias: true });
  return layers;
}
