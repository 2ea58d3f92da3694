// `taesd-web decode <latent> --model <video id>`: a TAEHV decode of one video latent to an animated
// PNG (one frame: a plain PNG), a .safetensors of every frame, or one image per frame.
import { basename, extname, join } from 'node:path';
import { fail } from '../errors.js';
import { rawToRgba } from '../model/rgba.js';
import { encodeApng } from '../image/apng.js';
import { encodeImage } from '../image/encode.js';
import { encodePng } from '../image/png.js';
import type { LatentSpace } from '../model/decoderTypes.js';
import type { RawImage } from '../model/rgba.js';
import { videoFamily, videoVaeToModel } from '../model/videoFamilies.js';
import type { VideoLatentInput } from '../model/videoLatent.js';
import type { VideoModelId } from '../model/videoRegistry.js';
import { createVideoDecoder, type VideoBackendChoice } from '../videoDecoder.js';
import { encodeSafetensors } from '../weights/safetensors.js';
import { notePrecisionIgnored, precisionArg } from './decoderArgs.js';
import { defaultWeights, writeFileAtomic } from './files.js';
import { readLatentFile } from './latentFile.js';
import { formatOption, intOption, oneOf, qualityOption, scaleOption, UsageError, type CliValues } from './options.js';
import { refuseInputs } from './outputs.js';
import { withSpinner } from './spinner.js';

/** Options only a video model takes. */
const VIDEO_ONLY = ['time-scale', 'chunk', 'fps'] as const;

/** --time-scale, --chunk and --fps do nothing for an image model: refused by name. */
export function refuseVideoOptions(v: CliValues): void {
  const given = VIDEO_ONLY.find((o) => v[o] !== undefined);
  if (given) throw new UsageError(`--${given} is for the video models (TAEHV); --model ${v.model ?? '(none)'} decodes images`);
}

type VideoOutput = { kind: 'apng'; path: string } | { kind: 'safetensors'; path: string } | { kind: 'frames'; dir: string; format: 'png' | 'jpeg' };

function outputOf(v: CliValues): VideoOutput {
  if ((v.out === undefined) === (v['out-dir'] === undefined)) throw new UsageError('give exactly one of --out <file.png|.safetensors> or --out-dir <dir>');
  if (v['out-dir'] !== undefined) return { kind: 'frames', dir: v['out-dir'], format: formatOption(v.format) ?? 'png' };
  const ext = extname(v.out!).toLowerCase();
  if (v.format !== undefined) throw new UsageError(`--format is for --out-dir; --out ${v.out} goes by its extension`);
  if (ext === '.png') return { kind: 'apng', path: v.out! };
  if (ext === '.safetensors') return { kind: 'safetensors', path: v.out! };
  throw new UsageError(`--out ${v.out}: a video goes to .png (animated) or .safetensors; use --out-dir for one image per frame`);
}

/** Clamped to [0,1], as upstream's frames are. */
function clampedFrames(frames: readonly RawImage[]): Float32Array {
  const per = frames[0]?.data.length ?? 0;
  const data = new Float32Array(frames.length * per);
  frames.forEach((f, i) => { for (let k = 0; k < per; k++) data[i * per + k] = Math.min(1, Math.max(0, f.data[k]!)); });
  return data;
}

export async function decodeVideoCommand(inputs: string[], v: CliValues): Promise<number> {
  if (inputs.length !== 1) throw new UsageError(`a video model decodes one latent file at a time, got ${inputs.length}`);
  // Undefined: detected from --weights (their shapes and file name).
  const model = v.model as VideoModelId | undefined;
  const output = outputOf(v);
  const quality = qualityOption(v.quality, output.kind === 'frames' && output.format === 'jpeg', 'the output is PNG or raw float32 safetensors');
  const scale = scaleOption(v.scale);
  const timeScale = scaleOption(v['time-scale'], 'time-scale');
  const chunk = intOption('chunk', v.chunk, 1);
  const fps = intOption('fps', v.fps, 1, 1000) ?? 16;
  const givenSpace = oneOf<LatentSpace>('latent-space', v['latent-space'], ['model', 'vae']);
  const backend = oneOf<VideoBackendChoice>('backend', v.backend, ['auto', 'native', 'wasm', 'webgpu']) ?? 'auto';
  const precision = precisionArg(v, backend);
  const input = inputs[0]!;
  if (output.kind !== 'frames') await refuseInputs([output.path], inputs, '--out'); // frames are images: never a latent file's name
  const { latent: read, space: fileSpace } = await readLatentFile(input);
  const space = givenSpace ?? fileSpace;
  const weights = v.weights ?? (model && defaultWeights(model));
  if (!weights) throw new UsageError('a video decode needs --model <id> or --weights <file>');
  const decoder = await withSpinner('loading the decoder', createVideoDecoder({ weights, ...(model !== undefined && { model }), backend, ...(precision !== undefined && { webgpu: { precision } }) }));
  try {
    process.stderr.write(`taesd-web: ${decoder.model.id} on ${decoder.backend}\n`);
    notePrecisionIgnored(decoder.backend, v);
    // VAE-space latents (a ComfyUI .latent, --latent-space vae) are mapped with the model's ComfyUI format for model-space weights.
    const mapped = space === 'vae' && decoder.latentSpace === 'model';
    const latent = mapped ? videoVaeToModel(read as VideoLatentInput, videoFamily(decoder.model.id)) : read;
    if (space !== null && space !== decoder.latentSpace && !mapped) process.stderr.write(`taesd-web: note: ${input} holds ${space}-space latents; these ${decoder.model.id} weights expect ${decoder.latentSpace}-space ones (decoded as given)\n`);
    const name = basename(input, extname(input));
    const started = performance.now();
    let written = 0;
    const onFrames = output.kind !== 'frames' ? undefined : async (frames: RawImage[], first: number) => {
      for (const [k, f] of frames.entries()) {
        await writeFileAtomic(join(output.dir, `${name}_f${String(first + k).padStart(4, '0')}.${output.format === 'png' ? 'png' : 'jpg'}`), await encodeImage(rawToRgba(f), { format: output.format, ...(quality !== undefined && { quality }) }));
        written++;
      }
    };
    const options = { ...(scale !== undefined && { scale }), ...(timeScale !== undefined && { timeScale }), ...(chunk !== undefined && { chunk }), ...(onFrames && { onFrames }) };
    const frames = await decoder.decodeVideoRaw(latent as VideoLatentInput, options);
    const [first] = frames;
    if (!first) fail('INTERNAL', 'the decode gave no frames');
    let what: string;
    if (output.kind === 'safetensors') {
      const shape = [frames.length, 3, first.height, first.width];
      await writeFileAtomic(output.path, encodeSafetensors({ image: { dtype: 'F32', shape, data: clampedFrames(frames) } }, { decoder: decoder.model.id, backend: decoder.backend }));
      what = `${output.path} (image ${shape.join('x')})`;
    } else if (output.kind === 'apng') {
      const images = frames.map(rawToRgba);
      await writeFileAtomic(output.path, images.length === 1 ? encodePng(images[0]!) : encodeApng(images, { delayMs: Math.round(1000 / fps), holdLastMs: 0 }));
      what = `${output.path} (${frames.length} frame${frames.length === 1 ? '' : 's'}, ${first.width}x${first.height})`;
    } else {
      what = `${written} frames in ${output.dir} (${first.width}x${first.height})`;
    }
    process.stderr.write(`taesd-web: wrote ${what} in ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
    return 0;
  } finally {
    decoder.destroy();
  }
}
