import { createDecoder } from '../decoder.js';
import { isVideoModelId } from '../model/videoRegistry.js';
import { namesVideoModel } from '../model/videoWeights.js';
import { decodeFiles } from './decode.js';
import { decodeVideoCommand, refuseVideoOptions } from './decodeVideo.js';
import { announceBackend, decoderOptions, scaleArg } from './decoderArgs.js';
import { videoModelFromLatents } from './latentModel.js';
import { formatOption, qualityOption, UsageError, type CliValues } from './options.js';
import { outputKind, planDecode, type OutputKind } from './outputs.js';
import { withSpinner } from './spinner.js';

/** The output kind: --out's extension, or --format (default png) with --out-dir; --format that --out contradicts is refused. */
function kindOf(v: CliValues): OutputKind {
  const format = formatOption(v.format, ['safetensors'] as const);
  if (v.out === undefined) return format ?? 'png';
  const kind = outputKind(v.out);
  if (format !== undefined && format !== kind) throw new UsageError(`--format ${v.format} does nothing with --out ${v.out}: its extension makes it ${kind}; drop --format or change the extension`);
  return kind;
}

/**
 * `taesd-web decode`: every option is checked, the model and weights found, the inputs read for
 * their batch sizes and every output named and checked (no clash, no input overwritten) before
 * the decoder is created; exit 0 when every input was written, 1 when any failed.
 */
export async function decodeCommand(inputs: string[], v: CliValues): Promise<number> {
  const video = v.model === undefined ? await videoModelFromLatents(inputs) : undefined; // a ComfyUI video step message
  if (isVideoModelId(v.model) || video) return decodeVideoCommand(inputs, video ? { ...v, model: video } : v);
  // No --model: weights named for a TAEHV model (taew2_1.pth, as upstream publishes them) are a video decoder's, detected from their shapes and name.
  if (v.model === undefined && v.weights !== undefined && namesVideoModel(v.weights)) return decodeVideoCommand(inputs, v);
  refuseVideoOptions(v);
  if (inputs.length === 0) throw new UsageError('decode needs at least one latent file (or --example)');
  if ((v.out === undefined) === (v['out-dir'] === undefined)) throw new UsageError('give exactly one of --out <file> or --out-dir <dir>');
  if (v.out !== undefined && inputs.length > 1) throw new UsageError('several inputs need --out-dir <dir> instead of --out');
  const kind = kindOf(v);
  const quality = qualityOption(v.quality, kind === 'jpeg', `the output is ${kind === 'png' ? 'PNG' : 'raw float32 safetensors'}`);
  const scale = scaleArg(v);
  const options = await decoderOptions(v, inputs);
  const { latentSpace } = options;
  const plan = await planDecode(inputs, { ...(v.out !== undefined ? { out: v.out } : { outDir: v['out-dir']! }), kind });
  const failures = [...plan.failures];
  if (plan.targets.length) {
    const decoder = await withSpinner('loading the decoder', createDecoder(options));
    try {
      announceBackend(decoder, v);
      failures.push(...(await decodeFiles(decoder, plan.targets, {
        ...(quality !== undefined && { quality }),
        ...(latentSpace !== undefined && { latentSpace }),
        ...(scale !== undefined && { scale }),
      })));
    } finally {
      decoder.destroy();
    }
  }
  for (const f of failures) process.stderr.write(`taesd-web: error ${f}\n`);
  return failures.length ? 1 : 0;
}
