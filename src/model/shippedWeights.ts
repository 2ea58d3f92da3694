// The decoder weights that ship with the package (models/), as URLs resolved from this module:
// a file: URL in Node wherever the package is installed, an asset that bundlers copy (Vite and
// others emit the file a literal `new URL(..., import.meta.url)` names). dist/src is one folder
// deeper than src: scripts/dist-asset-urls.mjs adds the `../` in the compiled file.
import { fail } from '../errors.js';
import { getModel, type ModelId } from './registry.js';

/** The weights that ship for `model`, or null when none do (only taef2's ship: 2.7 MB). */
export function shippedWeights(model: ModelId): URL | null {
  return model === 'taef2' ? new URL('../../models/taef2_decoder.pth', import.meta.url) : null;
}

/** The default weights of `model`: the shipped ones, else BAD_OPTION saying how to get them. */
export function defaultWeights(model: ModelId | undefined): URL {
  if (model === undefined) fail('BAD_OPTION', "createDecoder needs `model` (taef2's weights ship with the package) or `weights`");
  return shippedWeights(getModel(model).id) ?? fail('BAD_OPTION',
    `no weights ship for ${model} (only taef2's do): download them with \`npx taesd-web fetch-models ${model}\`, which prints the file's path, and pass that path (or any URL or bytes of the file) as \`weights\``);
}
