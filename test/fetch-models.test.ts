// `taesd-web fetch-models` and the CLI's weights lookup: the built CLI in a child process, a real
// HTTP server on 127.0.0.1 as the mirror, and a cache folder of its own (XDG_CACHE_HOME).
import { VIDEO_MODEL_IDS, VIDEO_MODELS } from '../src/model/videoRegistry.js';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_IDS, MODELS, getModel } from '../src/model/registry.js';
import { findWeights, modelCacheDir } from '../src/cli/modelCache.js';
import { encodeSafetensors } from '../src/weights/safetensors.js';
import { randomArray, randomStateDict } from './support/random.js';
import { ROOT } from './support/shared.js';

const BIN = join(ROOT, 'bin/taesd-web.js');
const SHIPPED = join(ROOT, 'models/taef2_decoder.pth');
const TAEF2_BLOB = 'f4da1ec48cb805b5ee8deb22cfad03f48fe52f64';
const pth = new Uint8Array(readFileSync(SHIPPED));
const altered = pth.slice();
altered[1000] ^= 1;

const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'taesd-fetch-'));
  temps.push(d);
  return d;
};

/** Runs the CLI in `cwd` with `cache` as XDG_CACHE_HOME; async, so this process's server can answer. */
function run(cache: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return runWith({}, cache, ...args);
}

function runWith(extraEnv: Record<string, string>, cache: string, ...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = { ...process.env, XDG_CACHE_HOME: cache, ...extraEnv };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, cwd: cache, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

// The mirror: upstream's bytes under /good/, one flipped bit under /bad/; every request counted.
const served = new Map<string, Uint8Array>([['/good/taef2_decoder.pth', pth], ['/bad/taef2_decoder.pth', altered]]);
let requests = 0;
let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    const body = served.get(req.url ?? '');
    if (body) res.writeHead(200, { 'content-length': body.byteLength }).end(body);
    else res.writeHead(404, 'Not Found').end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  temps.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** The taehv commit the TAEHV files are pinned to (../shared/README.md). */
const TAEHV_COMMIT = '1f14a568f24bf8811e0a0ac601613e04fc1581e8';

describe('models/manifest.json', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'models/manifest.json'), 'utf8')) as {
    commit: string;
    models: Record<string, { file: string; url: string; gitBlobId: string; latentChannels: number; family: string; license: string; video?: boolean }>;
  };

  it('lists every model with its pinned URL, blob id and channels, agreeing with the registry', () => {
    for (const id of MODEL_IDS) {
      const m = manifest.models[id]!;
      expect(m.file).toBe(MODELS[id].weightsFile);
      expect(m.latentChannels).toBe(MODELS[id].latent.channels);
    }
    for (const m of Object.values(manifest.models)) {
      expect(m.url).toBe(m.video ? `https://github.com/madebyollin/taehv/raw/${TAEHV_COMMIT}/${m.file}` : `https://github.com/madebyollin/taesd/raw/${manifest.commit}/${m.file}`);
      expect(m.gitBlobId).toMatch(/^[0-9a-f]{40}$/);
      expect(m.license).toBe('MIT');
    }
    for (const id of VIDEO_MODEL_IDS) expect(manifest.models[id]).toMatchObject({ file: VIDEO_MODELS[id].weightsFile, latentChannels: VIDEO_MODELS[id].latentChannels, video: true });
    expect(manifest.models['taew2_1']!.gitBlobId).toBe('d6ffa27358914606153bbb790bd1da1c5cf822fd');
    expect(manifest.models['taef2']!.gitBlobId).toBe(TAEF2_BLOB);
    expect(manifest.models['taesana']).toMatchObject({ file: 'taesana_decoder.pth', gitBlobId: 'aa645f9d0a0a1c6b5ed1fc5b446e764af4843a9f', latentChannels: 32, family: 'Sana' });
  });
});

describe('taesd-web fetch-models', () => {
  it('downloads from --base-url into the cache, verified; a second run finds it without a request', async () => {
    const cache = tempDir();
    const r = await run(cache, 'fetch-models', 'taef2', '--base-url', `${base}/good/`);
    expect(r.status, r.stderr).toBe(0);
    const dest = join(cache, 'taesd-web/taef2_decoder.pth');
    expect(r.stdout).toBe(`taef2: downloaded 2704756 bytes from ${base}/good/taef2_decoder.pth, verified (${dest})\n`);
    expect(readFileSync(dest).equals(pth)).toBe(true);
    expect(readdirSync(join(cache, 'taesd-web'))).toEqual(['taef2_decoder.pth']);
    const before = requests;
    const again = await run(cache, 'fetch-models', 'taef2', '--base-url', `${base}/good`);
    expect(again.stdout).toBe(`taef2: present, verified (${dest})\n`);
    expect(requests).toBe(before);
  });

  it('refuses a download whose git blob id is wrong, leaving nothing in the cache', async () => {
    const cache = tempDir();
    const r = await run(cache, 'fetch-models', 'taef2', '--base-url', `${base}/bad`);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^taesd-web: error \\[WEIGHTS_CORRUPT\\]: taef2: ${base}/bad/taef2_decoder.pth has git blob id [0-9a-f]{40}, expected ${TAEF2_BLOB}; not saved\n$`));
    expect(existsSync(join(cache, 'taesd-web'))).toBe(false);
  });

  it('replaces a damaged file in the cache with a verified download', async () => {
    const cache = tempDir();
    mkdirSync(join(cache, 'taesd-web'));
    writeFileSync(join(cache, 'taesd-web/taef2_decoder.pth'), altered);
    const r = await run(cache, 'fetch-models', 'taef2', '--base-url', `${base}/good`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('verified, replacing a file that failed verification');
    expect(readFileSync(join(cache, 'taesd-web/taef2_decoder.pth')).equals(pth)).toBe(true);
  });

  it('says in one line what to download from where and where to put it, when the server answers 404 or is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const unreachable = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    for (const [url, reason] of [[`${base}/missing`, 'HTTP 404 Not Found'], [unreachable, 'ECONNREFUSED']] as const) {
      const cache = tempDir();
      const r = await run(cache, 'fetch-models', 'taef2', '--base-url', url);
      expect(r.status).toBe(1);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).toContain(`taesd-web: error [IO]: cannot download ${url}/taef2_decoder.pth (`);
      expect(r.stderr).toContain(reason);
      expect(r.stderr).toContain(`put it in ${join(cache, 'taesd-web')}, or run "taesd-web fetch-models --from <folder with the file> taef2"`);
      expect(existsSync(join(cache, 'taesd-web'))).toBe(false);
    }
  });

  it('--from copies and verifies into --dir; a bad copy is never saved', async () => {
    const cache = tempDir();
    const dir = join(cache, 'chosen');
    const copied = await run(cache, 'fetch-models', 'taef2', '--from', join(ROOT, 'models'), '--dir', dir);
    expect(copied.status, copied.stderr).toBe(0);
    expect(copied.stdout).toMatch(/^taef2: copied 2704756 bytes from .*models\/taef2_decoder\.pth, verified/);
    expect(readFileSync(join(dir, 'taef2_decoder.pth')).equals(pth)).toBe(true);
    const source = tempDir();
    writeFileSync(join(source, 'taef2_decoder.pth'), altered);
    const bad = await run(cache, 'fetch-models', 'taef2', '--from', source, '--dir', join(cache, 'other'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`expected ${TAEF2_BLOB}; not saved`);
    expect(existsSync(join(cache, 'other'))).toBe(false);
  });

  it.each([
    ['an unknown id', ['taesd9'], 1, /MODEL_UNKNOWN.*unknown model id taesd9; known: taesd, taesdxl, taesd3, taef1, taef2, taesana/],
    ['--from with --base-url', ['taef2', '--from', '.', '--base-url', 'http://127.0.0.1:1'], 2, /--from <dir> or --base-url <url>, not both/],
  ])('refuses %s', async (_name, args, status, message) => {
    const r = await run(tempDir(), 'fetch-models', ...args);
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
  });
});

describe('fetch-models: limits, progress, defaults (issue #19 item 5, #18)', () => {
  // Hostile mirrors, each a real server on 127.0.0.1: one that never answers, one that stops
  // after a first chunk, one that sends forever, one that declares a size past the limit.
  let hostile: Server;
  let origin: string;
  const paths: string[] = [];
  beforeAll(async () => {
    hostile = createServer((req, res) => {
      paths.push(req.url ?? '');
      if (req.url?.startsWith('/silent/')) return; // no status line, ever
      if (req.url?.startsWith('/stall/')) return void res.writeHead(200, { 'content-length': pth.byteLength }).write(pth.subarray(0, 65536));
      if (req.url?.startsWith('/huge/')) return void res.writeHead(200, { 'content-length': 300 << 20 }).flushHeaders();
      if (req.url?.startsWith('/endless/')) {
        res.writeHead(200);
        const chunk = new Uint8Array(1 << 20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        return pump();
      }
      res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    hostile.closeAllConnections();
    hostile.close();
  });

  it.each([
    ['never answers', 'silent', 1, /^taesd-web: error \[IO\]: cannot download .*\/silent\/taef2_decoder\.pth \(stalled: no data for 1 s\); download that file/],
    ['stops after the first chunk', 'stall', 1, /^taesd-web: error \[IO\]: cannot download .*\/stall\/taef2_decoder\.pth \(stalled: no data for 1 s\)/],
    ['sends forever', 'endless', 1, /^taesd-web: error \[WEIGHTS_CORRUPT\]: .*\/endless\/taef2_decoder\.pth: \d+ bytes is over the 268435456-byte limit for decoder weights/],
    ['declares 300 MiB', 'huge', 1, /^taesd-web: error \[WEIGHTS_CORRUPT\]: .*\/huge\/taef2_decoder\.pth: 314572800 bytes is over the 268435456-byte limit/],
  ])('gives up on a mirror that %s, in bounded time, saving nothing', async (_name, path, status, message) => {
    const cache = tempDir();
    const started = performance.now();
    const r = await run(cache, 'fetch-models', 'taef2', '--base-url', `${origin}/${path}`, '--timeout', '1');
    expect(r.status).toBe(status);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(existsSync(join(cache, 'taesd-web'))).toBe(false);
  }, 30_000);

  it('without ids fetches every model but the shipped taef2', async () => {
    const cache = tempDir();
    paths.length = 0;
    const r = await run(cache, 'fetch-models', '--base-url', `${origin}/none`);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('taef2: ships with the package (models/taef2_decoder.pth), skipped\n');
    expect(paths.sort()).toEqual(MODEL_IDS.filter((id) => id !== 'taef2').map((id) => `/none/${id}_decoder.pth`).sort());
  });

  it('shows a progress bar with the size on a terminal, stdout keeping its one line', async () => {
    const cache = tempDir();
    const r = await runWith({ TAESD_WEB_STDERR_COLUMNS: '100' }, cache, 'fetch-models', 'taef2', '--base-url', `${base}/good`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\r\[#{30}\] 2\.7 MB \/ 2\.7 MB [\d.]+s eta 0s taef2 *\n$/);
    expect(r.stdout).toMatch(/^taef2: downloaded 2704756 bytes from .*, verified \(.*\)\n$/);
  });
});

describe('default weights lookup', () => {
  const latent = encodeSafetensors({ latent: { dtype: 'F32', shape: [4, 3, 3], data: randomArray(36, 4, 1) } });
  const taef2Latent = encodeSafetensors({ latent: { dtype: 'F32', shape: [32, 2, 2], data: randomArray(128, 5, 1) } });
  const weights = Object.fromEntries([...randomStateDict(getModel('taesd'), 6)].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }]));

  it('takes a model from the cache, and says how to fetch it when it is nowhere', async () => {
    const cache = tempDir();
    writeFileSync(join(cache, 'sd.safetensors'), latent);
    const missing = await run(cache, 'decode', 'sd.safetensors', '--model', 'taesd', '--backend', 'wasm', '--out', 'a.png');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`error [IO]: no weights for taesd in ${join(ROOT, 'models')}, ${join(cache, 'taesd-web')}`);
    expect(missing.stderr).toContain(`run "npx taesd-web fetch-models taesd" (downloads https://github.com/madebyollin/taesd/raw/`);
    mkdirSync(join(cache, 'taesd-web'));
    writeFileSync(join(cache, 'taesd-web/taesd_decoder.safetensors'), encodeSafetensors(weights));
    const found = await run(cache, 'decode', 'sd.safetensors', '--model', 'taesd', '--backend', 'wasm', '--out', 'a.png');
    expect(found.status, found.stderr).toBe(0);
    expect(existsSync(join(cache, 'a.png'))).toBe(true);
  });

  it('prefers the shipped models/ over the cache', async () => {
    const cache = tempDir();
    mkdirSync(join(cache, 'taesd-web'));
    writeFileSync(join(cache, 'taesd-web/taef2_decoder.pth'), 'not weights');
    writeFileSync(join(cache, 'f2.safetensors'), taef2Latent);
    const r = await run(cache, 'decode', 'f2.safetensors', '--model', 'taef2', '--backend', 'wasm', '--out', 'f2.png');
    expect(r.status, r.stderr).toBe(0);
    expect(findWeights('taef2')).toBe(SHIPPED);
    expect(findWeights('no-such-model')).toBeNull();
  });

  it('puts the cache where each platform keeps caches', () => {
    expect(modelCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'darwin', '/home/u')).toBe('/x/cache/taesd-web');
    expect(modelCacheDir({ XDG_CACHE_HOME: 'relative' }, 'linux', '/home/u')).toBe('/home/u/.cache/taesd-web');
    expect(modelCacheDir({}, 'linux', '/home/u')).toBe('/home/u/.cache/taesd-web');
    expect(modelCacheDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Caches/taesd-web');
    expect(modelCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe(join('C:\\Users\\u\\AppData\\Local', 'taesd-web'));
  });
});
