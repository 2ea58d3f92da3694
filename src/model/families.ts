// Latent spaces of the model families, as ComfyUI uses them for previews. Numbers from ComfyUI's
// comfy/latent_formats.py (Comfy-Org/ComfyUI@a125cd84 for SD15/SDXL/SD3/Flux, ComfyUI v0.7.0 for
// Flux2, identical rows in InvokeAI's step_callback.py). Sana: ComfyUI core has no latent format;
// its scale is the DC-AE's `scaling_factor` (diffusers config of dc-ae-f32c32-sana-1.0, also used
// by the Sana custom nodes), and no latent-to-RGB factors are published. The video families'
// numbers are in src/model/videoFamilies.ts (Comfy-Org/ComfyUI@9a9a69fd).

export type FamilyId = 'SD15' | 'SDXL' | 'SD3' | 'Flux' | 'Flux2' | 'Sana';

/** ComfyUI's video latent formats (3-D latents `[C,T,h,w]`), one per TAEHV latent space. */
export type VideoFamilyId = 'Wan21' | 'Wan22' | 'HunyuanVideo' | 'HunyuanVideo15' | 'LTXV' | 'MiniMaxH3Video' | 'CogVideoX' | 'CogVideoX1_5';

export type Rgb = readonly [number, number, number];

/** One family's latent space: what a sampler holds, how raw VAE latents map to it, its linear preview. */
export interface LatentFamily {
  /** ComfyUI's latent-format name. */
  readonly id: FamilyId | VideoFamilyId;
  /** Channels the decoder takes (FLUX.2: 32, after unpacking). */
  readonly channels: number;
  /** Channels of the sampler's packed latent at half resolution (FLUX.2: 128), else null. */
  readonly packedChannels: number | null;
  /** VAE space -> TAESD space: `(x - shiftFactor) * scaleFactor`; 1 and 0 are the identity. */
  readonly scaleFactor: number;
  readonly shiftFactor: number;
  /** Per-channel VAE statistics (Wan): VAE -> model space is `(x - latentsMean[c]) * scaleFactor / latentsStd[c]` instead. */
  readonly latentsMean?: readonly number[];
  readonly latentsStd?: readonly number[];
  /** Linear preview: `rgb = clamp((latent . factors + bias + 1) / 2, 0, 1)`, one row per channel; null when none are published. */
  readonly rgbFactors: readonly Rgb[] | null;
  readonly rgbBias: Rgb;
}

const NO_BIAS: Rgb = [0, 0, 0];
const FLUX_BIAS: Rgb = [-0.0329, -0.0718, -0.0851];

export const FAMILIES: Readonly<Record<FamilyId, LatentFamily>> = {
  SD15: {
    id: 'SD15', channels: 4, packedChannels: null, scaleFactor: 0.18215, shiftFactor: 0,
    rgbFactors: [
      [0.3512, 0.2297, 0.3227],
      [0.325, 0.4974, 0.235],
      [-0.2829, 0.1762, 0.2721],
      [-0.212, -0.2616, -0.7177],
    ],
    rgbBias: NO_BIAS,
  },
  SDXL: {
    id: 'SDXL', channels: 4, packedChannels: null, scaleFactor: 0.13025, shiftFactor: 0,
    rgbFactors: [
      [0.3651, 0.4232, 0.4341],
      [-0.2533, -0.0042, 0.1068],
      [0.1076, 0.1111, -0.0362],
      [-0.3165, -0.2492, -0.2188],
    ],
    rgbBias: [0.1084, -0.0175, -0.0011],
  },
  SD3: {
    id: 'SD3', channels: 16, packedChannels: null, scaleFactor: 1.5305, shiftFactor: 0.0609,
    rgbFactors: [
      [-0.0922, -0.0175, 0.0749],
      [0.0311, 0.0633, 0.0954],
      [0.1994, 0.0927, 0.0458],
      [0.0856, 0.0339, 0.0902],
      [0.0587, 0.0272, -0.0496],
      [-0.0006, 0.1104, 0.0309],
      [0.0978, 0.0306, 0.0427],
      [-0.0042, 0.1038, 0.1358],
      [-0.0194, 0.002, 0.0669],
      [-0.0488, 0.013, -0.0268],
      [0.0922, 0.0988, 0.0951],
      [-0.0278, 0.0524, -0.0542],
      [0.0332, 0.0456, 0.0895],
      [-0.0069, -0.003, -0.081],
      [-0.0596, -0.0465, -0.0293],
      [-0.1448, -0.1463, -0.1189],
    ],
    rgbBias: [0.2394, 0.2135, 0.1925],
  },
  Flux: {
    id: 'Flux', channels: 16, packedChannels: null, scaleFactor: 0.3611, shiftFactor: 0.1159,
    rgbFactors: [
      [-0.0346, 0.0244, 0.0681],
      [0.0034, 0.021, 0.0687],
      [0.0275, -0.0668, -0.0433],
      [-0.0174, 0.016, 0.0617],
      [0.0859, 0.0721, 0.0329],
      [0.0004, 0.0383, 0.0115],
      [0.0405, 0.0861, 0.0915],
      [-0.0236, -0.0185, -0.0259],
      [-0.0245, 0.025, 0.118],
      [0.1008, 0.0755, -0.0421],
      [-0.0515, 0.0201, 0.0011],
      [0.0428, -0.0012, -0.0036],
      [0.0817, 0.0765, 0.0749],
      [-0.1264, -0.0522, -0.1103],
      [-0.028, -0.0881, -0.0499],
      [-0.1262, -0.0982, -0.0778],
    ],
    rgbBias: FLUX_BIAS,
  },
  Flux2: {
    id: 'Flux2', channels: 32, packedChannels: 128, scaleFactor: 1, shiftFactor: 0,
    rgbFactors: [
      [0.0058, 0.0113, 0.0073],
      [0.0495, 0.0443, 0.0836],
      [-0.0099, 0.0096, 0.0644],
      [0.2144, 0.3009, 0.3652],
      [0.0166, -0.0039, -0.0054],
      [0.0157, 0.0103, -0.016],
      [-0.0398, 0.0902, -0.0235],
      [-0.0052, 0.0095, 0.0109],
      [-0.3527, -0.2712, -0.1666],
      [-0.0301, -0.0356, -0.018],
      [-0.0107, 0.0078, 0.0013],
      [0.0746, 0.009, -0.0941],
      [0.0156, 0.0169, 0.007],
      [-0.0034, -0.004, -0.0114],
      [0.0032, 0.0181, 0.008],
      [-0.0939, -0.0008, 0.0186],
      [0.0018, 0.0043, 0.0104],
      [0.0284, 0.0056, -0.0127],
      [-0.0024, -0.0022, -0.003],
      [0.1207, -0.0026, 0.0065],
      [0.0128, 0.0101, 0.0142],
      [0.0137, -0.0072, -0.0007],
      [0.0095, 0.0092, -0.0059],
      [0.0, -0.0077, -0.0049],
      [-0.0465, -0.0204, -0.0312],
      [0.0095, 0.0012, -0.0066],
      [0.029, -0.0034, 0.0025],
      [0.022, 0.0169, -0.0048],
      [-0.0332, -0.0457, -0.0468],
      [-0.0085, 0.0389, 0.0609],
      [-0.0076, 0.0003, -0.0043],
      [-0.0111, -0.046, -0.0614],
    ],
    rgbBias: FLUX_BIAS,
  },
  Sana: { id: 'Sana', channels: 32, packedChannels: null, scaleFactor: 0.41407, shiftFactor: 0, rgbFactors: null, rgbBias: NO_BIAS },
};
