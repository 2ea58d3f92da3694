// A step's input (image, latent, video frames or video latent) -> its encoded file(s), as the
// writer's options say; video steps also give their layout for progress.json.
import { fail } from '../errors.js';
import { contactSheet } from '../image/contactSheet.js';
import { downscale } from '../image/downscale.js';
import { encodeImage } from '../image/encode.js';
import { checkImage } from '../image/image.js';
import type { LatentDecoder, LatentInput } from '../model/decoderTypes.js';
import { batchOf, firstItem } from '../model/latent.js';
import type { RgbaImage } from '../model/rgba.js';
import type { ResolvedProgressOptions } from './options.js';
import type { VideoLayout } from './record.js';
import { checkVideoFrames, encodeVideoStep, type VideoFrames, type VideoLatentStep, type VideoPreviewer } from './videoStep.js';

/** One sampling step: an image, a latent (decoded by the writer's decoder), a video's frames, or a video latent (`{ video }`). */
export type StepInput = RgbaImage | LatentInput | VideoFrames | VideoLatentStep;

export interface EncodedStep {
  /** Item 0 (or the grid, or the video's file) first; with `batch: 'each'` one per item. */
  readonly files: Uint8Array[];
  readonly video: VideoLayout | null;
}

export interface StepDecoders {
  readonly decoder: LatentDecoder | null;
  readonly videoPreviewer: VideoPreviewer | null;
}

const isVideoLatent = (input: StepInput): input is VideoLatentStep => 'video' in input;
const isVideoFrames = (input: StepInput): input is VideoFrames => 'frames' in input;
const isLatent = (input: StepInput): input is LatentInput => 'shape' in input;

/** Checks a step as push() gets it: BAD_OPTION for what cannot be saved, before it is queued. */
export function checkStep(input: StepInput, step: number, d: StepDecoders): void {
  const what = `step ${step}`;
  if (isVideoLatent(input)) {
    if (!d.videoPreviewer) fail('BAD_OPTION', `${what} is a video latent but the ProgressWriter has no videoPreviewer`);
  } else if (isVideoFrames(input)) checkVideoFrames(input, what);
  else if (isLatent(input)) {
    if (!d.decoder) fail('BAD_OPTION', `${what} is a latent but the ProgressWriter has no decoder`);
  } else checkImage(input, what);
}

/** A latent step as the `batch` option says: its first item, a grid of all, or each item. */
async function decodeLatent(input: LatentInput, decoder: LatentDecoder, o: ResolvedProgressOptions): Promise<RgbaImage[]> {
  const { scale, batch } = o;
  const n = batchOf(input);
  if (n === 1 || batch === 'first') return [await decoder.decode(firstItem(input), { scale })];
  const images = await decoder.decodeBatch(input, { scale });
  if (batch === 'each') return images;
  const side = Math.max(images[0]!.width, images[0]!.height);
  return [contactSheet(images, { cellSide: side, gap: 0 })];
}

/** Decodes (if needed) and encodes one step. */
export async function encodeStep(input: StepInput, o: ResolvedProgressOptions, d: StepDecoders): Promise<EncodedStep> {
  if (isVideoLatent(input) || isVideoFrames(input)) {
    const video = isVideoFrames(input) ? input : await d.videoPreviewer!.preview(input.video);
    if (!isVideoFrames(input)) checkVideoFrames(video, 'the video preview');
    const { bytes, layout } = await encodeVideoStep(video, o);
    return { files: [bytes], video: layout };
  }
  let images = isLatent(input) ? await decodeLatent(input, d.decoder!, o) : [input];
  if (o.maxSide !== null) images = images.map((image) => downscale(image, o.maxSide!));
  const files = await Promise.all(images.map((image) => encodeImage(image, { format: o.format, quality: o.quality, level: o.pngLevel })));
  return { files, video: null };
}
