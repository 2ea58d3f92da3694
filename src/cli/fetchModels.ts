import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fail, isTaesdError } from '../errors.js';
import { fetchBytes, readSource } from '../weights/load.js';
import { writeFileAtomic } from './files.js';
import { intOption, UsageError, type CliValues } from './options.js';
import { gitBlobId, manifestModel, modelCacheDir, readManifest, type ManifestModel } from './modelCache.js';
import { PACKAGE_ROOT } from './packageRoot.js';
import { ProgressBar } from './progressBar.js';

export interface FetchOptions {
  /** Folder to put the file in. */
  readonly dir: string;
  /** Take the file from this folder instead of downloading it. */
  readonly from?: string;
  /** Download from `<baseUrl>/<file>` instead of the manifest's URL (a mirror). */
  readonly baseUrl?: string;
  /** Give up on a download after this many ms without data (default: the weights loader's, 30 s). */
  readonly idleTimeoutMs?: number;
}

/** The file's bytes, read with the weights loader's limits (a size cap), or null when there is none. */
async function readIfPresent(path: string): Promise<Uint8Array | null> {
  return existsSync(path) ? (await readSource(path)).bytes : null;
}

/** Downloads with the weights loader's limits (idle timeout, size cap), a progress bar with the size on a terminal. */
async function download(id: string, url: string, o: FetchOptions): Promise<Uint8Array> {
  let bar: ProgressBar | null = null;
  try {
    const { bytes } = await fetchBytes(url, url, {
      ...(o.idleTimeoutMs !== undefined && { idleTimeoutMs: o.idleTimeoutMs }),
      onProgress: (received, total) => (bar ??= new ProgressBar(total, { bytes: true })).update(received, id),
    });
    return bytes;
  } catch (e) {
    if (!isTaesdError(e, 'IO')) throw e;
    // As briefly as Node says it: the fetch error's cause names the DNS or socket error.
    const socket = (e.cause as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    const reason = socket?.message || socket?.code || e.message.replace(/^(?:cannot fetch \S+: )?(?:fetching|download of) \S+ /, '');
    fail('IO', `cannot download ${url} (${reason}); download that file where you can and put it in ${o.dir}, or run "taesd-web fetch-models --from <folder with the file> ${id}"`, e);
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
    bytes = await download(id, origin, o);
  }
  const got = gitBlobId(bytes);
  if (got !== entry.gitBlobId) fail('WEIGHTS_CORRUPT', `${id}: ${origin} has git blob id ${got}, expected ${entry.gitBlobId}; not saved`);
  await writeFileAtomic(dest, bytes);
  const replaced = existing ? ', replacing a file that failed verification' : '';
  return `${id}: ${o.from !== undefined ? 'copied' : 'downloaded'} ${bytes.byteLength} bytes from ${origin}, verified${replaced} (${dest})`;
}

/** The models whose weights ship in the package's models/ (taef2), which fetch-models without ids leaves out. */
function shipped(known: readonly string[]): string[] {
  return known.filter((id) => existsSync(join(PACKAGE_ROOT, 'models', manifestModel(id)!.file)));
}

/** `taesd-web fetch-models [ids...]`: every listed model (default: all in the manifest but the shipped ones); exit 1 if any failed. */
export async function fetchModelsCommand(ids: string[], v: CliValues): Promise<number> {
  const known = Object.keys(readManifest().models);
  const unknown = ids.filter((id) => !manifestModel(id));
  if (unknown.length) fail('MODEL_UNKNOWN', `unknown model id ${unknown.join(', ')}; known: ${known.join(', ')}`);
  if (v.from !== undefined && v['base-url'] !== undefined) throw new UsageError('give --from <dir> or --base-url <url>, not both');
  const timeout = intOption('timeout', v.timeout, 1, 3600);
  if (timeout !== undefined && v.from !== undefined) throw new UsageError('--timeout is for downloads; --from copies files');
  const options: FetchOptions = {
    ...(timeout !== undefined && { idleTimeoutMs: timeout * 1000 }),
    dir: v.dir !== undefined ? resolve(v.dir) : modelCacheDir(),
    ...(v.from !== undefined && { from: resolve(v.from) }),
    ...(v['base-url'] !== undefined && { baseUrl: v['base-url'] }),
  };
  const skipped = ids.length ? [] : shipped(known);
  for (const id of skipped) process.stdout.write(`${id}: ships with the package (models/${manifestModel(id)!.file}), skipped\n`);
  let failed = 0;
  // The TAEHV files (20-40 MB each) only when asked for by id.
  for (const id of ids.length ? ids : known.filter((k) => !skipped.includes(k) && !manifestModel(k)!.video)) {
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
