import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from './packageRoot.js';

/** The model the shipped example latents are for (scripts/make-examples.mjs makes them). */
export const EXAMPLE_MODEL = 'taef2';

/** `--example <name>`: other shipped latents and their model (scripts/make-wan-example.py makes wan). */
export const NAMED_EXAMPLES: Readonly<Record<string, { readonly file: string; readonly model: string }>> = {
  wan: { file: 'wan.safetensors', model: 'taew2_1' },
};

/** `decode`: the 64x64 astronaut; `progress`: the steps of a synthetic run, in order. */
export function exampleInputs(command: 'decode' | 'progress'): string[] {
  const dir = join(PACKAGE_ROOT, 'examples');
  if (command === 'decode') return [join(dir, 'astronaut.safetensors')];
  return readdirSync(join(dir, 'steps')).filter((f) => f.endsWith('.safetensors')).sort().map((f) => join(dir, 'steps', f));
}

/** The named example's latent file and model, or undefined for a name that is none. */
export function namedExample(name: string | undefined): { file: string; model: string } | undefined {
  const example = name !== undefined && Object.hasOwn(NAMED_EXAMPLES, name) ? NAMED_EXAMPLES[name]! : undefined;
  return example && { file: join(PACKAGE_ROOT, 'examples', example.file), model: example.model };
}
