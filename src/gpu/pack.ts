import type { ConvWeights } from '../model/weights.js';

/** Output channels are padded up to a multiple of 4 (the final conv's 3 -> 4). */
export const blocks = (channels: number): number => Math.ceil(channels / 4);

/**
 * A conv's weights in the layout shaders/conv.wgsl reads: for each output block, tap and input
 * block, four vec4 columns (column j = input channel 4cb+j into the block's 4 output channels);
 * then one bias vec4 per output block; then, for the GroupNorm-on-input variant, gamma and beta.
 */
export interface PackedConv {
  readonly data: Float32Array;
  /** vec4 index of the bias. */
  readonly biasAt: number;
  /** vec4 index of gamma (beta follows after cin/4 vec4s), or 0 when absent. */
  readonly normAt: number;
}

export function packConv(conv: ConvWeights, norm?: { gamma: Float32Array; beta: Float32Array }): PackedConv {
  const { cin, cout, k } = conv;
  const ob = blocks(cout), cb = blocks(cin), taps = k * k;
  const biasAt = ob * taps * cb * 4;
  const normAt = biasAt + ob;
  const data = new Float32Array((normAt + (norm ? 2 * cb : 0)) * 4);
  for (let o = 0; o < cout; o++) {
    for (let i = 0; i < cin; i++) {
      for (let t = 0; t < taps; t++) {
        const col = (((o >> 2) * taps + t) * cb + (i >> 2)) * 4 + (i & 3);
        data[col * 4 + (o & 3)] = conv.weight[(o * cin + i) * taps + t]!;
      }
    }
    if (conv.bias) data[biasAt * 4 + o] = conv.bias[o]!;
  }
  if (norm) {
    data.set(norm.gamma, normAt * 4);
    data.set(norm.beta, (normAt + cb) * 4);
  }
  return { data, biasAt, normAt: norm ? normAt : 0 };
}
