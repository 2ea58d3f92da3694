import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './packageRoot.js';

/** The model the shipped example latents are for (scripts/make-examples.mjs makes them). */
export const EXAMPLE_MODEL = 'taef2';

/** `decode`: the 64x64 astronaut; `progress`: the steps of a synthetic run, in order. */
export function exampleInputs(command: 'decode' | 'progress'): string[] {
  const dir = join(PACKAGE_ROOT, 'examples');
  if (command === 'decode') return [join(dir, 'astronaut.safetensors')];
  return readdirSync(join(dir, 'steps')).filter((f) => f.endsWith('.safetensors')).sort().map((f) => join(dir, 'steps', f));
}
