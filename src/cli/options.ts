// The CLI's options: one table says each option's type, the commands that take it, its default
// and its help line; parsing checks every option against its command before any work.
import { parseArgs } from 'node:util';
import { BACKEND_KINDS } from '../backend/registry.js';
import { IMAGE_FORMATS, isImageFormat, type ImageFormat } from '../image/encode.js';
import { isScale } from '../model/latent.js';
import { MODEL_IDS } from '../model/registry.js';
import { VIDEO_MODEL_IDS } from '../model/videoRegistry.js';
import { BATCH_MODES, isBatchMode, type BatchMode } from '../progress/options.js';

/** A mistake in the command line: exit 2 with the message and a pointer to the command's --help. */
export class UsageError extends Error {}

export type Command = 'decode' | 'progress' | 'fetch-models';

interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly commands: readonly Command[];
  /** The value's placeholder in help, e.g. `<id>`. */
  readonly value?: PerCommand;
  /** One line of help (per command where they differ). */
  readonly help: PerCommand;
  /** The default, as help shows it. */
  readonly byDefault?: PerCommand;
}

type PerCommand = string | Partial<Record<Command, string>>;
const forCommand = (text: PerCommand | undefined, command: Command) => (typeof text === 'object' ? text[command] : text);

const BOTH: readonly Command[] = ['decode', 'progress'];
const BACKENDS = ['auto', ...BACKEND_KINDS];

export const OPTIONS = {
  example: { type: 'boolean', commands: BOTH, help: { decode: 'decode a latent that ships in examples/: the 64x64 astronaut (taef2), or with "--example wan" a real Wan 2.1 video latent (taew2_1; its weights: fetch-models taew2_1)', progress: 'the 8-step run at 16x16 that ships in examples/steps' } },
  model: { type: 'string', commands: BOTH, value: '<id>', help: `the decoder: ${MODEL_IDS.join(', ')}; video: ${VIDEO_MODEL_IDS.join(', ')}`, byDefault: "the latent file's metadata, or detected from --weights; taef2 with --example" },
  weights: { type: 'string', commands: BOTH, value: '<file|url>', help: 'decoder weights, .pth or .safetensors', byDefault: '<id>_decoder.pth in models/, the fetch-models cache, ../shared/models' },
  'latent-space': { type: 'string', commands: BOTH, value: 'model|vae', help: "vae: raw VAE latents, mapped with the model's scale and shift", byDefault: 'model; vae for .latent files' },
  backend: { type: 'string', commands: BOTH, value: BACKENDS.join('|'), help: 'where to decode', byDefault: 'auto' },
  precision: { type: 'string', commands: BOTH, value: 'auto|f32|f16', help: 'WebGPU arithmetic (webgpu backend only)', byDefault: 'auto' },
  scale: { type: 'string', commands: BOTH, value: '1|0.5|0.25|0.125', help: "image size relative to a full decode (skips the decoder's last upsamples)", byDefault: '1' },
  'time-scale': { type: 'string', commands: ['decode'], value: '1|0.5|0.25|0.125', help: 'video models: frames relative to a full decode (skips the last time upscales)', byDefault: '1' },
  chunk: { type: 'string', commands: ['decode'], value: '<n>', help: 'video models: latent frames decoded at a time', byDefault: 'what the memory budget allows' },
  fps: { type: 'string', commands: ['decode', 'progress'], value: '<n>', help: 'video models: frame rate of the animated PNG', byDefault: '16' },
  out: { type: 'string', commands: ['decode'], value: '<file>', help: 'the output for one input: .png, .jpg/.jpeg, or .safetensors (raw float32 tensor "image")' },
  'out-dir': { type: 'string', commands: ['decode'], value: '<dir>', help: 'a folder for one output per input, <name>.<ext> (a batch: <name>_b<k>.<ext>)' },
  'job-id': { type: 'string', commands: ['progress'], value: '<id>', help: 'the job folder <root>/<output-folder>/<id>; a plain name (letters, digits, _ . -)' },
  root: { type: 'string', commands: ['progress'], value: '<dir>', help: 'where the output folder goes', byDefault: '.' },
  'output-folder': { type: 'string', commands: ['progress'], value: '<name>', help: 'folder of job folders under --root', byDefault: 'progress' },
  prefix: { type: 'string', commands: ['progress'], value: '<name>', help: 'step files are <prefix>_NNNN.<ext>', byDefault: 'step' },
  format: {
    type: 'string', commands: BOTH, value: { decode: 'png|jpeg|safetensors', progress: 'jpeg|png' },
    help: { decode: 'what --out-dir gets; --out goes by its extension', progress: 'the step images' },
    byDefault: { decode: 'png', progress: 'jpeg' },
  },
  quality: { type: 'string', commands: BOTH, value: '1..100', help: 'JPEG quality (JPEG output only)', byDefault: '85' },
  base64: { type: 'boolean', commands: ['progress'], help: "put the latest image's base64 in progress.json" },
  every: { type: 'string', commands: ['progress'], value: '<n>', help: 'save every nth step from --start', byDefault: '1' },
  start: { type: 'string', commands: ['progress'], value: '<step>', help: 'first step to save', byDefault: '0' },
  end: { type: 'string', commands: ['progress'], value: '<step>', help: 'last step to save, >= --start', byDefault: 'the last step' },
  total: { type: 'string', commands: ['progress'], value: '<n>', help: 'steps the run has, >= the files given', byDefault: 'the number of files' },
  batch: { type: 'string', commands: ['progress'], value: 'first|grid|each', help: 'what a batch step saves: its first item, a grid, or each item', byDefault: 'first' },
  'budget-ms': { type: 'string', commands: ['progress'], value: '<ms>', help: "video models: most time one step's preview may take (linear first, then TAEHV at the largest scale/time-scale that fits)", byDefault: 'no limit' },
  dir: { type: 'string', commands: ['fetch-models'], value: '<dir>', help: 'where to put the files', byDefault: 'the per-user cache' },
  from: { type: 'string', commands: ['fetch-models'], value: '<dir>', help: 'copy the files from this folder instead of downloading' },
  'base-url': { type: 'string', commands: ['fetch-models'], value: '<url>', help: 'download <url>/<file> from a mirror instead of GitHub' },
  timeout: { type: 'string', commands: ['fetch-models'], value: '<seconds>', help: 'give up on a download after this long without data', byDefault: '30' },
  help: { type: 'boolean', short: 'h', commands: ['decode', 'progress', 'fetch-models'], help: "this command's options" },
  version: { type: 'boolean', short: 'v', commands: [], help: "taesd-web's version" },
} as const satisfies Record<string, OptionSpec>;

type ParseConfig = { options: typeof OPTIONS; allowPositionals: true };
export type CliValues = ReturnType<typeof parseArgs<ParseConfig>>['values'];

/** Help text wider than this wraps, under its own column. */
const HELP_WIDTH = 100;

/** Every option's lines for `command`'s help: `  --name <value>  help (byDefault: x)`, aligned, wrapped. */
export function optionLines(command: Command): string {
  const rows = Object.entries(OPTIONS as Record<string, OptionSpec>)
    .filter(([, o]) => o.commands.includes(command))
    .map(([name, o]) => {
      const fallback = forCommand(o.byDefault, command);
      return [`${o.short ? `-${o.short}, ` : ''}--${name}${o.value ? ` ${forCommand(o.value, command)}` : ''}`, `${forCommand(o.help, command)}${fallback ? ` (default: ${fallback})` : ''}`] as const;
    });
  const width = Math.max(...rows.map(([left]) => left.length)) + 4;
  const wrap = (text: string) => {
    const lines = [''];
    for (const word of text.split(' ')) {
      if (lines.at(-1)!.length && width + lines.at(-1)!.length + word.length >= HELP_WIDTH) lines.push('');
      lines[lines.length - 1] += `${lines.at(-1)!.length ? ' ' : ''}${word}`;
    }
    return lines.join(`\n${' '.repeat(width)}`);
  };
  return rows.map(([left, right]) => `  ${left.padEnd(width - 2)}${wrap(right)}\n`).join('');
}

/**
 * parseArgs in strict mode, with one-line messages of our own for everything it rejects, and an
 * option the command does not take refused by name. `command` is null before the command is known.
 */
export function parseCli(argv: string[]): { command: string | undefined; values: CliValues; rest: string[] } {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const command = commandOf(argv);
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    if (!Object.hasOwn(OPTIONS, t.name)) throw new UsageError(`unknown option ${t.rawName}`);
    const spec: OptionSpec = OPTIONS[t.name as keyof typeof OPTIONS];
    if (spec.type === 'string' && (!t.value || (!t.inlineValue && t.value.startsWith('-')))) throw new UsageError(`${t.rawName} needs a value`);
    if (spec.type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value`);
    const known = (['decode', 'progress', 'fetch-models'] as const).find((c) => c === command);
    if (known && t.name !== 'version' && !spec.commands.includes(known)) throw new UsageError(`${known} takes no ${t.rawName}`);
  }
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  return { command: positionals[0], values, rest: positionals.slice(1) };
}

/** The command word in `argv` (the first positional), also where the options are wrong. */
export function commandOf(argv: string[]): string | undefined {
  const { tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  return tokens.find((t) => t.kind === 'positional')?.value;
}

export function oneOf<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) notOneOf(name, value, allowed);
  return value as T;
}

/** The one wording of a value outside its list, for oneOf and the options the library checks. */
function notOneOf(name: string, value: string, allowed: readonly string[]): never {
  throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${value}"`);
}

export function intOption(name: string, value: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`}, got "${value}"`);
  }
  return Number(value);
}

/** `--scale`: 1, 0.5, 0.25, 0.125 (or 1/2, 1/4, ...); the model says how small it may go. */
export function scaleOption(value: string | undefined, name = 'scale'): number | undefined {
  if (value === undefined) return undefined;
  const m = /^(?:1\/(\d+)|(\d*\.?\d+))$/.exec(value);
  const scale = m ? (m[1] !== undefined ? 1 / Number(m[1]) : Number(m[2])) : NaN;
  if (!isScale(scale)) throw new UsageError(`--${name} must be 1, 0.5, 0.25 or 0.125 (or 1/2, 1/4, 1/8), got "${value}"`);
  return scale;
}

/** `--format`, with `jpg` read as `jpeg`: an image format (the library's isImageFormat), or one of `extra` (decode's `safetensors`). */
export function formatOption<T extends string = never>(value: string | undefined, extra: readonly T[] = []): ImageFormat | T | undefined {
  if (value === undefined) return undefined;
  const format = value === 'jpg' ? 'jpeg' : value;
  if (isImageFormat(format) || (extra as readonly string[]).includes(format)) return format as ImageFormat | T;
  notOneOf('format', format, [...IMAGE_FORMATS, ...extra]);
}

/** `--batch`: what a batch step saves, checked by the library's isBatchMode. */
export function batchOption(value: string | undefined): BatchMode | undefined {
  if (value === undefined || isBatchMode(value)) return value;
  notOneOf('batch', value, BATCH_MODES);
}

/** `--quality` is JPEG's: refused when nothing written is a JPEG, since it would do nothing. */
export function qualityOption(value: string | undefined, jpeg: boolean, what: string): number | undefined {
  const quality = intOption('quality', value, 1, 100);
  if (quality !== undefined && !jpeg) throw new UsageError(`--quality sets JPEG quality, but ${what}`);
  return quality;
}
