#!/usr/bin/env node
// Puts upstream TAESD decoder weights into models/, keeping a file only once its git blob id
// matches models/manifest.json (the id at the pinned upstream commit), so a partial or altered
// download never lands there.
//
//   node scripts/fetch-models.mjs [ids...]               download the listed models (default: all)
//   node scripts/fetch-models.mjs --from <dir> [ids...]  copy them from a local folder instead
//   node scripts/fetch-models.mjs --dir <dir> [ids...]   use <dir> instead of models/
//   node scripts/fetch-models.mjs --verify <file> [id]   check one file (id: blob id or model id;
//                                                        default: the model whose file name it has)
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Git's object id of a file: sha1 of "blob <byteLength>\0" followed by the bytes. */
export function gitBlobId(bytes) {
  return createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
}

export async function readManifest() {
  return JSON.parse(await readFile(join(ROOT, 'models/manifest.json'), 'utf8'));
}

async function readIfPresent(path) {
  try {
    return await readFile(path);
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Makes `<dir>/<entry.file>` hold the verified model: kept if already there and verified, else
 * copied from `from` (a folder) or downloaded from `entry.url`, checked, written to a temporary
 * name and renamed into place. Returns a line saying what it did; throws an Error on failure.
 */
export async function fetchModel(id, entry, { dir, from }) {
  const dest = join(dir, entry.file);
  const existing = await readIfPresent(dest);
  if (existing && gitBlobId(existing) === entry.gitBlobId) return `${id}: present, verified (${dest})`;
  let bytes;
  let origin;
  if (from) {
    origin = join(from, entry.file);
    bytes = await readIfPresent(origin);
    if (!bytes) throw new Error(`${id}: ${origin} not found`);
  } else {
    origin = entry.url;
    let response;
    try {
      response = await fetch(origin);
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      throw new Error(`${id}: cannot download ${origin}: ${e.cause?.message ?? e.message}`);
    }
  }
  const got = gitBlobId(bytes);
  if (got !== entry.gitBlobId) throw new Error(`${id}: ${origin} has git blob id ${got}, expected ${entry.gitBlobId}; not saved`);
  await mkdir(dir, { recursive: true });
  const temp = `${dest}.partial-${process.pid}`;
  try {
    await writeFile(temp, bytes);
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
  const replaced = existing ? ', replacing a file that failed verification' : '';
  return `${id}: ${from ? 'copied' : 'downloaded'} ${bytes.byteLength} bytes from ${origin}, verified${replaced} (${dest})`;
}

/** Checks one file against a blob id, a model id, or (by default) the model its file name names. */
export async function verifyFile(file, idOrBlob, manifest) {
  const models = Object.entries(manifest.models);
  const match = idOrBlob
    ? models.find(([id]) => id === idOrBlob)
    : models.find(([, m]) => m.file === basename(file));
  const expected = match ? match[1].gitBlobId : idOrBlob;
  if (!expected || !/^[0-9a-f]{40}$/.test(expected)) {
    throw new Error(`${file}: give a model id (${models.map(([id]) => id).join(', ')}) or a 40-digit git blob id to verify against`);
  }
  const bytes = await readIfPresent(file);
  if (!bytes) throw new Error(`${file}: not found`);
  const got = gitBlobId(bytes);
  if (got !== expected) throw new Error(`${file}: git blob id ${got}, expected ${expected}`);
  return `${file}: verified (git blob id ${got})`;
}

async function main(args) {
  const manifest = await readManifest();
  const known = Object.keys(manifest.models);
  const options = { dir: join(ROOT, 'models'), from: undefined };
  const ids = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--verify') {
      if (!args[i + 1]) throw new Error('--verify needs a file: --verify <file> [model id or git blob id]');
      console.log(await verifyFile(args[i + 1], args[i + 2], manifest));
      return;
    } else if (a === '--dir' || a === '--from') {
      if (!args[i + 1]) throw new Error(`${a} needs a folder`);
      options[a.slice(2)] = resolve(args[++i]);
    } else if (a === '--help' || a === '-h') {
      console.log('usage: fetch-models [--dir <dir>] [--from <dir>] [ids...] | --verify <file> [id]');
      console.log(`ids: ${known.join(', ')} (default: all)`);
      return;
    } else if (a.startsWith('-')) {
      throw new Error(`unknown option ${a}`);
    } else {
      ids.push(a);
    }
  }
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) throw new Error(`unknown model id ${unknown.join(', ')}; known: ${known.join(', ')}`);
  let failed = 0;
  for (const id of ids.length ? ids : known) {
    try {
      console.log(await fetchModel(id, manifest.models[id], options));
    } catch (e) {
      console.error(e.message);
      failed++;
    }
  }
  if (failed) throw new Error(`${failed} model(s) not fetched`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`fetch-models: ${e.message}`);
    process.exitCode = 1;
  });
}
