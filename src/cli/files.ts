import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fail } from '../errors.js';
import { getModel } from '../model/registry.js';
import { findWeights, manifestModel, modelCacheDir, weightsSearchDirs } from './modelCache.js';

/** Default weights for `--model <id>` (see findWeights); fails with IO saying how to get them. */
export function defaultWeights(modelId: string): string {
  const model = getModel(modelId);
  const found = findWeights(model.id);
  if (found) return found;
  const url = manifestModel(model.id)?.url ?? 'its upstream file';
  fail('IO', `no weights for ${model.id} in ${weightsSearchDirs().join(', ')}; run "npx taesd-web fetch-models ${model.id}" (downloads ${url} into ${modelCacheDir()}) or pass --weights <file>`);
}

/** Writes via a temp file in the same folder and a rename, so no reader ever sees a partial file. */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    fail('IO', `cannot write ${path}: ${(e as Error).message}`, e);
  }
}
