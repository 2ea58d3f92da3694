// The linear video preview: each latent frame times its family's C x 3 matrix (ComfyUI's
// Latent2RGBPreviewer, which shows frame 0 only; this gives every latent frame). CPU, or WGSL on
// a given GPUDevice. The same decodeVideo/decodeVideoRaw/outputFrames surface as VideoDecoder.
import { fail } from './errors.js';
import { latent2rgbRaw, upscaleNearest, type LinearUpscale } from './fallback/linear.js';
import { rawToRgba } from './model/rgba.js';
import { drawLinearFrames } from './gpu/linearVideo.js';
import { LinearPreview } from './gpu/linearPreview.js';
import type { LatentSpace } from './model/decoderTypes.js';
import type { LatentFamily } from './model/families.js';
import type { Latent } from './model/latent.js';
import { rgbFactors, type LinearModel } from './model/registry.js';
import type { RawImage, RgbaImage } from './model/rgba.js';
import { videoFamily, videoVaeToModel } from './model/videoFamilies.js';
import { prepareVideoLatent, type VideoLatentInput } from './model/videoLatent.js';
import { fullTimeUpscale, getVideoModel, type VideoModelId, type VideoModelSpec } from './model/videoRegistry.js';

export interface LinearVideoDecoderOptions {
  /** The video model whose latent space the latents are in (its ComfyUI format gives the factors). */
  readonly model: VideoModelId;
  /** Output pixels per latent pixel, 1 (default), 2, 4 or 8 (nearest neighbour). */
  readonly upscale?: LinearUpscale;
  /** Default latent space of the calls (default `'model'`: a sampler's latents). */
  readonly latentSpace?: LatentSpace;
  /** Draw with the WGSL kernel on this device (the caller keeps it); CPU without. */
  readonly device?: GPUDevice;
}

export interface LinearVideoCallOptions<F> {
  readonly latentSpace?: LatentSpace;
  /** Called once with every frame (`first` = 0), as VideoDecoder calls it per chunk. */
  readonly onFrames?: (frames: F[], first: number) => void | Promise<void>;
}

/** One RGB frame per latent frame; see createLinearVideoDecoder. */
export class LinearVideoDecoder {
  readonly backend = 'linear' as const;
  readonly model: VideoModelSpec;
  readonly family: LatentFamily;
  readonly upscale: LinearUpscale;
  private readonly linearModel: LinearModel;
  private readonly gpu: LinearPreview<LinearModel> | null;
  private destroyed = false;

  constructor(private readonly options: LinearVideoDecoderOptions) {
    this.model = getVideoModel(options.model);
    this.family = videoFamily(this.model.id);
    this.linearModel = { id: this.model.id, latent: this.family };
    rgbFactors(this.linearModel);
    this.upscale = options.upscale ?? 1;
    if (![1, 2, 4, 8].includes(this.upscale)) fail('BAD_OPTION', `upscale must be 1, 2, 4 or 8, got ${String(this.upscale)}`);
    this.gpu = options.device ? new LinearPreview(options.device, this.linearModel, this.upscale) : null;
  }

  /** Frames a decode of `latentFrames` gives: one per latent frame. */
  outputFrames(latentFrames: number): number {
    return latentFrames;
  }

  /** Full-rate video frames each preview frame stands for (the model's time upscale, e.g. 4 for Wan). */
  get timeStride(): number {
    return fullTimeUpscale(this.model);
  }

  /** Frames as planar floats in [0,1] `[3,h*u,w*u]` (CPU). */
  async decodeVideoRaw(latent: VideoLatentInput, options: LinearVideoCallOptions<RawImage> = {}): Promise<RawImage[]> {
    const frames = this.frames(latent, options.latentSpace);
    const plane = frames.channels * frames.height * frames.width;
    const one = (t: number): Latent => ({ ...frames, batch: 1, data: frames.data.subarray(t * plane, (t + 1) * plane) });
    const out = Array.from({ length: frames.batch }, (_, t) => upscaleNearest(latent2rgbRaw(one(t), this.linearModel), this.upscale));
    await options.onFrames?.(out, 0);
    return out;
  }

  /** Frames as RGBA; drawn by the WGSL kernel when the decoder has a device. */
  async decodeVideo(latent: VideoLatentInput, options: LinearVideoCallOptions<RgbaImage> = {}): Promise<RgbaImage[]> {
    if (!this.gpu) {
      const { onFrames, ...rest } = options;
      const out = (await this.decodeVideoRaw(latent, rest)).map(rawToRgba);
      await onFrames?.(out, 0);
      return out;
    }
    const out = await drawLinearFrames(this.gpu, this.frames(latent, options.latentSpace));
    await options.onFrames?.(out, 0);
    return out;
  }

  destroy(): void {
    this.destroyed = true;
    this.gpu?.destroy();
  }

  /** The latent checked, in model space, as a batch of frames `[T,C,h,w]`. */
  private frames(latent: VideoLatentInput, space: LatentSpace = this.options.latentSpace ?? 'model'): Latent {
    if (this.destroyed) fail('DESTROYED', `the ${this.model.id} linear video decoder was destroyed`);
    if (space !== 'model' && space !== 'vae') fail('BAD_OPTION', `latentSpace must be 'model' or 'vae', got ${String(space)}`);
    let video = prepareVideoLatent(latent, this.model);
    if (space === 'vae') video = prepareVideoLatent(videoVaeToModel(latent, this.family), this.model);
    return { batch: video.frames, channels: video.channels, height: video.height, width: video.width, data: video.read(0, video.frames) };
  }
}

/** A linear video previewer for `model`'s ComfyUI latent format; BAD_OPTION for a model without factors (taecvx, taeos1_3). */
export function createLinearVideoDecoder(options: LinearVideoDecoderOptions): LinearVideoDecoder {
  return new LinearVideoDecoder(options);
}
