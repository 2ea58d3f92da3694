import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BACKEND_KINDS } from '../backend/registry.js';
import { createDecoder, type BackendChoice, type CreateDecoderOptions } from '../decoder.js';
import { isTaesdError } from '../errors.js';
import type { LatentSpace } from '../model/decoder.js';
import { MODEL_IDS, type ModelId } from '../model/registry.js';
import { withModelFromFiles } from './comfyModel.js';
import { decodeFiles, outputKind, type OutputKind } from './decode.js';
import { EXAMPLE_MODEL, exampleInputs } from './examples.js';
import { fetchModelsCommand } from './fetchModels.js';
import { defaultWeights } from './files.js';
import { PACKAGE_ROOT } from './packageRoot.js';
import { progressCommand } from './progress.js';

const BACKENDS = ['auto', ...BACKEND_KINDS].join('|');

const USAGE = `taesd-web: previews of diffusion latents with TAESD decoders

Usage:
  taesd-web decode (<latent-file...> | --example) --model <id> [--weights <file|url>] [--latent-space model|vae]
                   [--backend ${BACKENDS}] [--precision auto|f32|f16] [--scale 1|0.5|0.25|0.125]
                   (--out <file.png|.jpg|.safetensors> | --out-dir <dir> [--format png|jpeg|safetensors]) [--quality N]
  taesd-web progress (<latent-files...> | --example) --model <id> [--weights <file>] --job-id <id> [--root <dir>]
                   [--output-folder progress] [--prefix step] [--format jpeg|png] [--quality N] [--base64]
                   [--every N] [--start N] [--end N] [--total N] [--latent-space model|vae]
                   [--backend ${BACKENDS}] [--scale 1|0.5|0.25|0.125] [--batch first|grid|each]
  taesd-web fetch-models [<id...>] [--dir <dir>] [--from <dir> | --base-url <url>]
  taesd-web --help | --version

Models: ${MODEL_IDS.join(', ')}; decode takes the model from a file's "latent_format" metadata
(taesd-web's ComfyUI step messages) when --model is not given. Latent files: .safetensors (tensor "latent"), ComfyUI .latent
("latent_tensor", read as VAE space unless --latent-space says otherwise), .npy; [C,h,w] or [1,C,h,w].
--example decodes the latents that ship in examples/ (TAEF2: a 64x64 astronaut; for progress, an
8-step run at 16x16); --model defaults to ${EXAMPLE_MODEL} then.
Weights default to <id>_decoder.pth or .safetensors in the package's models/ (taef2 ships there),
then the cache fetch-models fills, then ../shared/models/.
fetch-models downloads the upstream decoders (default: all) into the cache (--dir to choose), from
the pinned GitHub commit or --base-url <url>/<file> (a mirror), or copies them from --from <dir>;
each is kept only when its git blob id matches models/manifest.json.
`;

class UsageError extends Error {}

const OPTIONS = {
  model: { type: 'string' }, weights: { type: 'string' }, 'latent-space': { type: 'string' },
  backend: { type: 'string' }, precision: { type: 'string' }, out: { type: 'string' }, 'out-dir': { type: 'string' },
  format: { type: 'string' }, quality: { type: 'string' }, 'job-id': { type: 'string' }, root: { type: 'string' },
  'output-folder': { type: 'string' }, prefix: { type: 'string' }, base64: { type: 'boolean' }, every: { type: 'string' },
  start: { type: 'string' }, end: { type: 'string' }, total: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  example: { type: 'boolean' }, dir: { type: 'string' }, from: { type: 'string' }, 'base-url': { type: 'string' },
  version: { type: 'boolean', short: 'v' }, scale: { type: 'string' }, batch: { type: 'string' },
} as const;

export type CliValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

export function intOption(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got "${value}"`);
  return Number(value);
}

/** `--scale`: 1, 0.5, 0.25, 0.125 (or 1/2, 1/4, ...); the model says how small it may go. */
export function scaleOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:1\/(\d+)|(\d*\.?\d+))$/.exec(value);
  const scale = m ? (m[1] !== undefined ? 1 / Number(m[1]) : Number(m[2])) : NaN;
  if (!(scale > 0 && scale <= 1 && Number.isInteger(Math.log2(1 / scale)))) throw new UsageError(`--scale must be 1, 0.5, 0.25 or 0.125 (or 1/2, 1/4, 1/8), got "${value}"`);
  return scale;
}

/** Decoder options common to both commands. */
export function decoderOptions(v: CliValues): CreateDecoderOptions {
  const backend = oneOf<BackendChoice>('backend', v.backend, ['auto', ...BACKEND_KINDS]) ?? 'auto';
  if (v.model === undefined && v.weights === undefined) throw new UsageError('--model is required (or --weights to detect it from)');
  const precision = oneOf('precision', v.precision, ['auto', 'f32', 'f16'] as const);
  const latentSpace = oneOf<LatentSpace>('latent-space', v['latent-space'], ['model', 'vae']);
  return {
    backend,
    ...(v.model !== undefined && { model: v.model as ModelId }),
    ...((v.weights !== undefined || backend !== 'linear') && { weights: v.weights ?? defaultWeights(v.model!) }),
    ...(precision !== undefined && { precision }),
    ...(latentSpace !== undefined && { latentSpace }),
  };
}

async function decodeCommand(inputs: string[], v: CliValues): Promise<number> {
  if (inputs.length === 0) throw new UsageError('decode needs at least one latent file');
  if ((v.out === undefined) === (v['out-dir'] === undefined)) throw new UsageError('give exactly one of --out <file> or --out-dir <dir>');
  if (v.out !== undefined && inputs.length > 1) throw new UsageError('several inputs need --out-dir <dir> instead of --out');
  if (v.out !== undefined) outputKind(v.out);
  const format = oneOf<OutputKind>('format', v.format === 'jpg' ? 'jpeg' : v.format, ['png', 'jpeg', 'safetensors']);
  const quality = intOption('quality', v.quality, 1);
  const latentSpace = oneOf<LatentSpace>('latent-space', v['latent-space'], ['model', 'vae']);
  const scale = scaleOption(v.scale);
  // Without --model, a step message's latent_format (ComfyUI) names the model.
  const decoder = await createDecoder(decoderOptions(await withModelFromFiles(v, inputs)));
  process.stderr.write(`taesd-web: ${decoder.model.id} on ${decoder.backend} (${decoder.backendReason})\n`);
  decoder.onBackendChange((c) => process.stderr.write(`taesd-web: switched to ${c.to}: ${c.reason}\n`));
  try {
    const failures = await decodeFiles(decoder, {
      inputs,
      ...(v.out !== undefined ? { out: v.out } : { outDir: v['out-dir']! }),
      ...(format !== undefined && { format }),
      ...(quality !== undefined && { quality }),
      ...(latentSpace !== undefined && { latentSpace }),
      ...(scale !== undefined && { scale }),
    });
    for (const f of failures) process.stderr.write(`taesd-web: error ${f}\n`);
    return failures.length ? 1 : 0;
  } finally {
    decoder.destroy();
  }
}

/** parseArgs in strict mode, with one-line messages of our own for everything strict mode rejects. */
function parseCli(argv: string[]) {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, t.name)) throw new UsageError(`unknown option ${t.rawName}`);
    const type = OPTIONS[t.name as keyof typeof OPTIONS].type;
    if (type === 'string' && (t.value === undefined || (!t.inlineValue && t.value.startsWith('-')))) throw new UsageError(`${t.rawName} needs a value`);
    if (type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
  }
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
}

/** The latent files to read: the positionals, or the shipped examples with --example (and --model defaulting to theirs). */
function withExample(command: 'decode' | 'progress', inputs: string[], v: CliValues): [string[], CliValues] {
  if (!v.example) return [inputs, v];
  if (inputs.length) throw new UsageError('--example decodes the shipped examples; give it or latent files, not both');
  return [exampleInputs(command), v.model === undefined && v.weights === undefined ? { ...v, model: EXAMPLE_MODEL } : v];
}

/** Runs the CLI; returns the exit code (0 ok, 1 failed, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseCli(argv);
    const [command, ...rest] = positionals;
    if (values.version) {
      process.stdout.write(`${JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version}\n`);
      return 0;
    }
    if (values.help || command === undefined || command === 'help') {
      process.stdout.write(USAGE);
      return command === undefined && !values.help ? 2 : 0;
    }
    if (command === 'decode') return await decodeCommand(...withExample(command, rest, values));
    if (command === 'progress') return await progressCommand(...withExample(command, rest, values));
    if (command === 'fetch-models') return await fetchModelsCommand(rest, values);
    throw new UsageError(`unknown command "${command}" (decode, progress, fetch-models)`);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`taesd-web: ${e.message}\nRun taesd-web --help for usage.\n`);
      return 2;
    }
    if (isTaesdError(e)) {
      process.stderr.write(`taesd-web: error [${e.code}]: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

export { UsageError };
