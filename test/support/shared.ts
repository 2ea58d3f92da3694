// Paths into ../shared (golden data and development weights, never committed). Tests that read it
// are skipped when it is missing (`describe.skipIf(!HAS_SHARED)`); test/support/sharedNotice.ts says so.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root: the nearest folder above this file with the package's package.json (this file may run bundled elsewhere below it). */
function projectRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && readFileSync(pkg, 'utf8').includes('"name": "taesd-web"')) return dir;
    if (dirname(dir) === dir) throw new Error(`no taesd-web package.json above ${from}`);
  }
}

export const ROOT = projectRoot(dirname(fileURLToPath(import.meta.url)));
export const SHARED = process.env.TAESD_SHARED ?? join(ROOT, '../shared');
export const HAS_SHARED = existsSync(SHARED);
/** Why tests that read ../shared are skipped. */
export const NO_SHARED_REASON = `${SHARED} not found (set TAESD_SHARED): the tests that need its golden data and weights are skipped`;
export const sharedPath = (...parts: string[]): string => join(SHARED, ...parts);
/** The upstream TAEF2 decoder as published: it ships in models/, so reading it needs no ../shared. */
export const TAEF2_PTH = join(ROOT, 'models/taef2_decoder.pth');
export const TAEF2_SAFETENSORS = sharedPath('models/taef2_decoder.safetensors');
export const golden = (name: string): string => sharedPath('golden', `${name}.safetensors`);
