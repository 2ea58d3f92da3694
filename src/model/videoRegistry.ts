// The TAEHV video decoders as upstream (github.com/madebyollin/taehv@1f14a56, taehv.py) configures
// them: the per-model facts `TAEHV.__init__` derives from the checkpoint's file name.
import { fail } from '../errors.js';

export type VideoModelId =
  | 'taehv' | 'taehv1_5' | 'taehv1_5_super' | 'taew2_1' | 'taew2_2' | 'taew2_2_super'
  | 'taecvx' | 'taeltx_2' | 'taeltx2_3' | 'taeh3' | 'taeos1_3';

/** `base`: MemBlock decoder (256/128/64/64 wide); `super`: SuperMemBlock decoder (512/256/128/64). */
export type VideoArch = 'base' | 'super';

/**
 * Which raw decoder frames are kept (upstream `decode_video`): `base` trims the first
 * `t_upscale - 1`; `cogvideox` keeps every frame when T is even; `h3` trims per five-latent-frame
 * chunk and drops the last three latent frames' outputs (`_decode_h3_video`).
 */
export type FrameRuleKind = 'base' | 'cogvideox' | 'h3';

export interface VideoModelSpec {
  readonly id: VideoModelId;
  readonly label: string;
  readonly latentChannels: number;
  /** Pixel-shuffle patch of the output (1, 2 or 4). */
  readonly patch: number;
  /** Upstream's `decoder_time_upscale`: whether each of the three TGrow layers doubles the frames. */
  readonly timeUpscale: readonly [boolean, boolean, boolean];
  readonly arch: VideoArch;
  readonly frameRule: FrameRuleKind;
  /** Upstream file name (whole checkpoint; also `safetensors/<id>.safetensors`). */
  readonly weightsFile: string;
}

const FTT = [false, true, true] as const;
const TTT = [true, true, true] as const;

const spec = (id: VideoModelId, label: string, latentChannels: number, patch: number, arch: VideoArch = 'base', timeUpscale: readonly [boolean, boolean, boolean] = FTT, frameRule: FrameRuleKind = 'base'): VideoModelSpec =>
  ({ id, label, latentChannels, patch, timeUpscale, arch, frameRule, weightsFile: `${id}.pth` });

export const VIDEO_MODELS: Readonly<Record<VideoModelId, VideoModelSpec>> = {
  taehv: spec('taehv', 'HunyuanVideo', 16, 1),
  taehv1_5: spec('taehv1_5', 'HunyuanVideo 1.5', 32, 2),
  taehv1_5_super: spec('taehv1_5_super', 'HunyuanVideo 1.5 (super)', 32, 2, 'super'),
  taew2_1: spec('taew2_1', 'Wan 2.1, Wan 2.2 14B, Qwen-Image', 16, 1),
  taew2_2: spec('taew2_2', 'Wan 2.2 5B', 48, 2),
  taew2_2_super: spec('taew2_2_super', 'Wan 2.2 5B (super)', 48, 2, 'super'),
  taecvx: spec('taecvx', 'CogVideoX', 16, 1, 'base', FTT, 'cogvideox'),
  taeltx_2: spec('taeltx_2', 'LTX-2', 128, 4, 'base', TTT),
  taeltx2_3: spec('taeltx2_3', 'LTX-2.3', 128, 4, 'base', TTT),
  taeh3: spec('taeh3', 'MiniMax H3', 24, 2, 'base', FTT, 'h3'),
  taeos1_3: spec('taeos1_3', 'Open-Sora 1.3', 16, 1),
};

export const VIDEO_MODEL_IDS = Object.keys(VIDEO_MODELS) as VideoModelId[];

export function isVideoModelId(id: unknown): id is VideoModelId {
  return typeof id === 'string' && Object.hasOwn(VIDEO_MODELS, id);
}

export function getVideoModel(id: string): VideoModelSpec {
  if (!isVideoModelId(id)) fail('MODEL_UNKNOWN', `unknown video model ${JSON.stringify(String(id)).slice(0, 80)}: expected one of ${VIDEO_MODEL_IDS.join(', ')}`);
  return VIDEO_MODELS[id];
}

/** Output frames per latent frame with every TGrow on (upstream `t_upscale`). */
export const fullTimeUpscale = (model: VideoModelSpec): number => 2 ** model.timeUpscale.filter(Boolean).length;
