import type { ModelSpec } from './registry.js';

/** Feature width of every TAESD decoder stage. */
export const WIDTH = 64;
/** taef2's GroupNorm branch: 1x1 conv WIDTH -> POOL_WIDTH, GroupNorm, ReLU, 1x1 conv back. */
export const POOL_WIDTH = 256;
export const POOL_GROUPS = 4;
export const POOL_EPS = 1e-5;

/**
 * One step of the decoder after the input's tanh clamp (`x = tanh(x / 3) * 3`).
 * - `conv`: 3x3, zero padding 1; `upsample` means its input is first nearest-upsampled x2.
 * - `block`: `[x += pool(x)]; out = relu(conv.4(relu(conv.2(relu(conv.0(x))))) + x)`.
 */
export type Layer =
  | {
      readonly kind: 'conv';
      readonly key: string;
      readonly cin: number;
      readonly cout: number;
      readonly bias: boolean;
      readonly relu: boolean;
      readonly upsample: boolean;
    }
  | { readonly kind: 'block'; readonly key: string; readonly pool: boolean };

/** The upstream `nn.Sequential` as layers; keys are its indices (the state-dict prefixes). */
export function decoderLayers(model: ModelSpec): Layer[] {
  const conv = (key: number, cin: number, cout: number, bias: boolean, relu: boolean, upsample: boolean): Layer =>
    ({ kind: 'conv', key: String(key), cin, cout, bias, relu, upsample });
  const block = (key: number, pool = false): Layer => ({ kind: 'block', key: String(key), pool });
  const p = model.pooledBlocks;
  return [
    conv(1, model.latentChannels, WIDTH, true, true, false),
    block(3, p), block(4, p), block(5, p),
    conv(7, WIDTH, WIDTH, false, false, true),
    block(8), block(9), block(10),
    conv(12, WIDTH, WIDTH, false, false, true),
    block(13), block(14), block(15),
    conv(17, WIDTH, WIDTH, false, false, true),
    block(18),
    conv(19, WIDTH, 3, true, false, false),
  ];
}

/** Output pixels per latent pixel along each axis. */
export const UPSCALE = 8;

/** Multiply-adds x 2 of one decode of an h x w latent (for GFLOP/s reports). */
export function decodeFlops(model: ModelSpec, h: number, w: number): number {
  let flops = 0;
  let scale = 1;
  for (const layer of decoderLayers(model)) {
    if (layer.kind === 'conv') {
      if (layer.upsample) scale *= 2;
      flops += 2 * 9 * layer.cin * layer.cout * h * w * scale * scale;
    } else {
      flops += 3 * 2 * 9 * WIDTH * WIDTH * h * w * scale * scale;
      if (layer.pool) flops += 2 * 2 * WIDTH * POOL_WIDTH * h * w;
    }
  }
  return flops;
}
