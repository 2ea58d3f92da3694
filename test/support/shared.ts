// Paths into ../shared (weights and golden data are read from there, never committed).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.TAESD_SHARED ?? join(ROOT, '../shared');
export const sharedPath = (...parts: string[]): string => join(SHARED, ...parts);
export const TAEF2_PTH = sharedPath('models/taef2_decoder.pth');
export const TAEF2_SAFETENSORS = sharedPath('models/taef2_decoder.safetensors');
export const golden = (name: string): string => sharedPath('golden', `${name}.safetensors`);
if (!existsSync(SHARED)) throw new Error(`../shared not found at ${SHARED} (set TAESD_SHARED)`);
