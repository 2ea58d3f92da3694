import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.js';
import { getModel } from '../model/registry.js';
import { describeFsError, replaceFile } from '../progress/atomicFile.js';

/** The package root (dist/src/cli -> ../../..; src/cli under vitest -> ../..). */
const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_ROOT = existsSync(join(here, '../../package.json')) ? resolve(here, '../..') : resolve(here, '../../..');

/** Default weights: models/<id>_decoder.{pth,safetensors} here or in the package, then ../shared/models/. */
export function defaultWeights(modelId: string): string {
  const model = getModel(modelId);
  const stem = model.weightsFile.replace(/\.pth$/, '');
  const dirs = [resolve('models'), join(PACKAGE_ROOT, 'models'), resolve('../shared/models'), join(PACKAGE_ROOT, '../shared/models')];
  for (const dir of dirs) for (const ext of ['.pth', '.safetensors']) {
    const file = join(dir, stem + ext);
    if (existsSync(file)) return file;
  }
  fail('IO', `no weights for ${model.id}: looked for ${stem}.pth/.safetensors in ${[...new Set(dirs)].join(', ')}; run "npm run fetch-models -- ${model.id}" or pass --weights`);
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
    fail('IO', `cannot write ${path}: ${describeFsError(e)}`, e);
  }
}
