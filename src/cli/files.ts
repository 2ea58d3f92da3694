import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fail } from '../errors.js';
import { getModel } from '../model/registry.js';
import { isVideoModelId, VIDEO_MODELS } from '../model/videoRegistry.js';
import { describeFsError, replaceFile } from '../progress/atomicFile.js';
import { findWeights, manifestModel, modelCacheDir, weightsSearchDirs } from './modelCache.js';

/** Default weights for `--model <id>` (see findWeights); fails with IO saying how to get them. */
export function defaultWeights(modelId: string): string {
  const model = isVideoModelId(modelId) ? VIDEO_MODELS[modelId] : getModel(modelId);
  const found = findWeights(model.id);
  if (found) return found;
  const url = manifestModel(model.id)?.url ?? 'its upstream file';
  fail('IO', `no weights for ${model.id} in ${weightsSearchDirs().join(', ')}; run "npx taesd-web fetch-models ${model.id}" (downloads ${url} into ${modelCacheDir()}) or pass --weights <file>`);
}

/**
 * Writes via a temp file in the same folder (random name, created exclusively) and a rename, so
 * no reader ever sees a partial file and nothing planted at the temp name is written through.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  try {
    await mkdir(dirname(resolve(path)), { recursive: true });
    await replaceFile(resolve(path), data);
  } catch (e) {
    fail('IO', `cannot write ${path}: ${describeFsError(e)}`, { cause: e });
  }
}
