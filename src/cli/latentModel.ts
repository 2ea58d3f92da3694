import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { fail } from '../errors.js';
import { modelForComfyFormat } from '../model/comfyFormats.js';
import { isModelId, type ModelId } from '../model/registry.js';
import { isVideoModelId, type VideoModelId } from '../model/videoRegistry.js';
import { UsageError } from './options.js';

/** A latent file's header worth reading for its metadata; a longer one is left to the loader to judge. */
const MAX_HEADER_BYTES = 1 << 20;

/**
 * The decoder a `.safetensors`/`.latent` file's metadata names: `model` (as examples/ carry), else
 * `latent_format` (a ComfyUI step message), an image or a video id; null when it names none.
 */
async function namedDecoder(path: string): Promise<string | null> {
  const metadata = await readMetadata(path);
  const model = metadata?.['model'];
  if (isModelId(model) || isVideoModelId(model)) return model;
  const format = metadata?.['latent_format'];
  return typeof format === 'string' ? modelForComfyFormat(format) : null;
}

/** The image model a file's metadata names; MODEL_UNKNOWN for a video one (decode takes those alone). */
async function metadataModel(path: string): Promise<ModelId | null> {
  const id = await namedDecoder(path);
  return id === null || isModelId(id) ? id : fail('MODEL_UNKNOWN', `${path} is a latent for the video decoder ${id}: decode it on its own with taesd-web decode`);
}

/** The video model the first input's metadata names (a ComfyUI video step message), for decode without --model. */
export async function videoModelFromLatents(inputs: readonly string[]): Promise<VideoModelId | undefined> {
  const id = inputs[0] === undefined ? null : await namedDecoder(inputs[0]);
  return isVideoModelId(id) ? id : undefined;
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
