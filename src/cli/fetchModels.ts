import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fail, isTaesdError } from '../errors.js';
import { writeFileAtomic } from './files.js';
import { UsageError, type CliValues } from './main.js';
import { gitBlobId, manifestModel, modelCacheDir, readManifest, type ManifestModel } from './modelCache.js';

export interface FetchOptions {
  /** Folder to put the file in. */
  readonly dir: string;
  /** Take the file from this folder instead of downloading it. */
  readonly from?: string;
  /** Download from `<baseUrl>/<file>` instead of the manifest's URL (a mirror). */
  readonly baseUrl?: string;
}

async function readIfPresent(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** What went wrong in a fetch(), as briefly as Node says it (the cause names the DNS or socket error). */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message || cause?.code || (e as Error).message;
}

async function download(id: string, url: string, dir: string): Promise<Uint8Array> {
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    fail('IO', `cannot download ${url} (${networkReason(e)}); download that file where you can and put it in ${dir}, or run "taesd-web fetch-models --from <folder with the file> ${id}"`, e);
  }
}

/**
 * Makes `<dir>/<entry.file>` hold the verified upstream file: kept when already there and
 * verified, else copied from `from` or downloaded, checked against the manifest's git blob id,
 * and written atomically; a file that fails the check is never written. Returns a line saying
 * what it did.
 */
export async function fetchModel(id: string, entry: ManifestModel, o: FetchOptions): Promise<string> {
  const dest = join(o.dir, entry.file);
  const existing = await readIfPresent(dest);
  if (existing && gitBlobId(existing) === entry.gitBlobId) return `${id}: present, verified (${dest})`;
  const origin = o.from !== undefined
    ? join(o.from, entry.file)
    : o.baseUrl !== undefined ? `${o.baseUrl.replace(/\/+$/, '')}/${entry.file}` : entry.url;
  let bytes: Uint8Array;
  if (o.from !== undefined) {
    const copy = await readIfPresent(origin);
    if (!copy) fail('IO', `${id}: ${origin} not found`);
    bytes = copy;
  } else {
    bytes = await download(id, origin, o.dir);
  }
  const got = gitBlobId(bytes);
  if (got !== entry.gitBlobId) fail('WEIGHTS_CORRUPT', `${id}: ${origin} has git blob id ${got}, expected ${entry.gitBlobId}; not saved`);
  await writeFileAtomic(dest, bytes);
  const replaced = existing ? ', replacing a file that failed verification' : '';
  return `${id}: ${o.from !== undefined ? 'copied' : 'downloaded'} ${bytes.byteLength} bytes from ${origin}, verified${replaced} (${dest})`;
}

/** `taesd-web fetch-models [ids...]`: every listed model (default: all in the manifest); exit 1 if any failed. */
export async function fetchModelsCommand(ids: string[], v: CliValues): Promise<number> {
  const known = Object.keys(readManifest().models);
  const unknown = ids.filter((id) => !manifestModel(id));
  if (unknown.length) fail('MODEL_UNKNOWN', `unknown model id ${unknown.join(', ')}; known: ${known.join(', ')}`);
  if (v.from !== undefined && v['base-url'] !== undefined) throw new UsageError('give --from <dir> or --base-url <url>, not both');
  const options: FetchOptions = {
    dir: v.dir !== undefined ? resolve(v.dir) : modelCacheDir(),
    ...(v.from !== undefined && { from: resolve(v.from) }),
    ...(v['base-url'] !== undefined && { baseUrl: v['base-url'] }),
  };
  let failed = 0;
  for (const id of ids.length ? ids : known) {
    try {
      process.stdout.write(`${await fetchModel(id, manifestModel(id)!, options)}\n`);
    } catch (e) {
      if (!isTaesdError(e)) throw e;
      process.stderr.write(`taesd-web: error [${e.code}]: ${e.message}\n`);
      failed++;
    }
  }
  return failed ? 1 : 0;
}
