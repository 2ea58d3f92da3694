import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fail } from '../errors.js';
import { modelForComfyFormat } from '../model/comfyFormats.js';
import { isModelId, type ModelId } from '../model/registry.js';
import { UsageError } from './options.js';

/** A latent file's header worth reading for its metadata; a longer one is left to the loader to judge. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * The model a `.safetensors`/`.latent` file's metadata names: `model` (as examples/ carry), else
 * `latent_format` (a ComfyUI step message); null when it names none.
 */
async function metadataModel(path: string): Promise<ModelId | null> {
  const metadata = await readMetadata(path);
  const model = metadata?.['model'];
  if (isModelId(model)) return model;
  const format = metadata?.['latent_format'];
  if (typeof format !== 'string') return null;
  const id = modelForComfyFormat(format);
  return isModelId(id) ? id : fail('MODEL_UNKNOWN', `${path}: latent format ${format} needs the ${id} decoder, which this version does not have`);
}

/** A safetensors header's `__metadata__`, or null where the file has none worth reading. */
async function readMetadata(path: string): Promise<Record<string, unknown> | null> {
  if (!/\.(?:safetensors|latent)$/i.test(path)) return null;
  try {
    // Non-blocking: a FIFO named .safetensors must not hang the open; only regular files are read.
    const file = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      if (!(await file.stat()).isFile()) return null;
      const head = Buffer.alloc(8);
      if ((await file.read(head, 0, 8, 0)).bytesRead < 8) return null;
      const length = head.readBigUInt64LE(0);
      if (length > BigInt(MAX_HEADER_BYTES)) return null;
      const header = Buffer.alloc(Number(length));
      await file.read(header, 0, header.length, 8);
      const metadata = (JSON.parse(header.toString('utf8')) as { __metadata__?: unknown }).__metadata__;
      return typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : null;
    } finally {
      await file.close();
    }
  } catch {
    return null; // unreadable or not JSON: the latent loader says what is wrong with it
  }
}

/**
 * The model the inputs' metadata names, for `decode`/`progress` without --model: undefined when
 * none says; a UsageError when they disagree.
 */
export async function modelFromLatents(inputs: readonly string[]): Promise<ModelId | undefined> {
  const named = (await Promise.all(inputs.map(async (input) => ({ input, model: await metadataModel(input) })))).filter((n) => n.model !== null);
  const other = named.find((n) => n.model !== named[0]?.model);
  if (other) throw new UsageError(`--model is needed: ${named[0]!.input} is for ${named[0]!.model} but ${other.input} is for ${other.model}`);
  return named[0]?.model ?? undefined;
}
