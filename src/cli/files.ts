import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../errors.js';
import { getModel } from '../model/registry.js';

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
