import { open } from 'node:fs/promises';
import { isModelId, type ModelId } from '../model/registry.js';
import { UsageError } from './options.js';

/** A latent file's header worth reading for its metadata; a longer one is left to the loader to judge. */
const MAX_HEADER_BYTES = 1 << 20;

/** The model a `.safetensors`/`.latent` file's `__metadata__.model` names (as examples/ carry), or null. */
async function metadataModel(path: string): Promise<ModelId | null> {
  if (!/\.(?:safetensors|latent)$/i.test(path)) return null;
  try {
    const file = await open(path, 'r');
    try {
      const head = Buffer.alloc(8);
      if ((await file.read(head, 0, 8, 0)).bytesRead < 8) return null;
      const length = head.readBigUInt64LE(0);
      if (length > BigInt(MAX_HEADER_BYTES)) return null;
      const header = Buffer.alloc(Number(length));
      await file.read(header, 0, header.length, 8);
      const model = (JSON.parse(header.toString('utf8')) as { __metadata__?: { model?: unknown } }).__metadata__?.model;
      return isModelId(model) ? model : null;
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
