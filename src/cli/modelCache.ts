// Where the CLI finds decoder weights: shipped with the package, in the per-user cache that
// `taesd-web fetch-models` fills, or in ../shared/models (development). Node only.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PACKAGE_ROOT } from './packageRoot.js';

/** One upstream decoder in models/manifest.json. */
export interface ManifestModel {
  readonly file: string;
  readonly url: string;
  /** Git's object id of the file at the pinned commit (see gitBlobId). */
  readonly gitBlobId: string;
  readonly latentChannels: number;
  readonly family: string;
  readonly license: string;
  /** A TAEHV video decoder (whole checkpoint from madebyollin/taehv): fetched by id only. */
  readonly video?: boolean;
}

export interface Manifest {
  readonly repository: string;
  readonly commit: string;
  readonly models: Readonly<Record<string, ManifestModel>>;
}

let manifest: Manifest | undefined;

/** models/manifest.json, read once. */
export function readManifest(): Manifest {
  manifest ??= JSON.parse(readFileSync(join(PACKAGE_ROOT, 'models/manifest.json'), 'utf8')) as Manifest;
  return manifest;
}

/** The manifest's entry for `modelId`, or null when it lists no such model. */
export function manifestModel(modelId: string): ManifestModel | null {
  const models = readManifest().models;
  return Object.hasOwn(models, modelId) ? models[modelId]! : null;
}

/**
 * The per-user download cache: `$XDG_CACHE_HOME/taesd-web` (when absolute, as the XDG spec asks),
 * else `~/Library/Caches/taesd-web` on macOS, `%LOCALAPPDATA%\taesd-web` on Windows,
 * `~/.cache/taesd-web` elsewhere.
 */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'taesd-web');
  if (platform === 'darwin') return join(home, 'Library', 'Caches', 'taesd-web');
  if (platform === 'win32') return join(env['LOCALAPPDATA'] ?? join(home, 'AppData', 'Local'), 'taesd-web');
  return join(home, '.cache', 'taesd-web');
}

/** The folders searched for weights, in order: shipped models/, the cache, ../shared/models. */
export function weightsSearchDirs(): string[] {
  const dirs = [join(PACKAGE_ROOT, 'models'), modelCacheDir(), resolve('../shared/models'), join(PACKAGE_ROOT, '../shared/models')];
  return [...new Set(dirs)];
}

/** The first `<id>_decoder.pth` or `.safetensors` in weightsSearchDirs(), or null. */
export function findWeights(modelId: string): string | null {
  const entry = manifestModel(modelId);
  if (!entry) return null;
  const stem = entry.file.replace(/\.pth$/, '');
  for (const dir of weightsSearchDirs()) {
    for (const ext of ['.pth', '.safetensors']) {
      const file = join(dir, stem + ext);
      if (existsSync(file)) return file;
    }
  }
  return null;
}

/** Git's object id of a file: sha1 of "blob <byteLength>\0" followed by the bytes. */
export function gitBlobId(bytes: Uint8Array): string {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}
