// Vite dev server for the demo (demo/index.html) and the browser-test page (demo/test.html); the
// benchmark's page (bench/web) runs on it too, with its own root (bench/server.ts).
//
//   npm run demo                  -> http://localhost:5173/ (demo), /test.html
//   npm run demo:build            -> dist/demo: the demo alone, static, relative URLs (any folder of
//                                    any static server; see the README for the headers it wants)
//
// What it adds to plain Vite:
// - COOP/COEP on every response, so pages are cross-origin isolated (SharedArrayBuffer, which
//   onnxruntime-web needs for its wasm threads);
// - /jobs/*    -> job folders (TAESD_JOBS, default ./jobs), sent with `Cache-Control: no-store`:
//   `npx taesd-web progress ... --root jobs` writes there and the demo's "Follow a job" polls them;
// - /shared/*  -> the project's ../shared folder (weights and golden latents for the test and bench
//   pages; never copied into the repo, never read by the demo). TAESD_SHARED overrides where it is;
// - /ort/*     -> onnxruntime-web's .wasm/.mjs from node_modules (no CDN) for the test and bench
//   pages; the demo imports the .wasm it needs as assets, which a build copies;
// - `taesd-web` (and `taesd-web/progress`, ...) resolve to src/, so the demo imports the package by its name.
import { createReadStream, existsSync, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Connect, type Plugin } from 'vite';

const ROOT = dirname(fileURLToPath(import.meta.url));
const SHARED = resolve(process.env.TAESD_SHARED ?? join(ROOT, '../shared'));
/** Job folders for the demo's "Follow a job": `--root` of `npx taesd-web progress`. */
const JOBS = resolve(process.env.TAESD_JOBS ?? join(ROOT, 'jobs'));
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
/**
 * TAESD_VITE_STATIC=1 (set by playwright.config.ts): no file watching, no HMR. Other work in the
 * repo (e.g. `pretest` regenerating src/gpu/shaders.generated.ts) would otherwise reload the
 * page in the middle of a test.
 */
const STATIC = process.env.TAESD_VITE_STATIC === '1';

const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

const MIME: Readonly<Record<string, string>> = {
  '.wasm': 'application/wasm',
  '.mjs': 'text/javascript',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};

interface Mount {
  /** URL prefix, with leading and trailing slash. */
  readonly prefix: string;
  /** Folder the prefix maps to. */
  readonly dir: string;
  /** Extensions served (lower case, with dot); null: all. */
  readonly extensions: readonly string[] | null;
  /** Cache-Control for a file. */
  readonly cache: (path: string) => string;
}

/**
 * Serves files under `mount.dir` at `mount.prefix`: GET/HEAD only, no directory listings, no
 * paths outside the folder. Progress artifacts (progress.json, job folders) may change between
 * polls, so JSON and images under /shared are sent with `no-store`.
 */
function serveFolder(mount: Mount): Connect.NextHandleFunction {
  const root = resolve(mount.dir);
  return (req: IncomingMessage, res: ServerResponse, next: Connect.NextFunction) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith(mount.prefix) || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(url.pathname.slice(mount.prefix.length));
    } catch {
      res.statusCode = 400;
      return res.end('bad path');
    }
    const file = resolve(root, rel);
    const ext = extname(file).toLowerCase();
    const allowed = mount.extensions === null || mount.extensions.includes(ext);
    if (!file.startsWith(root + sep) || !allowed || !existsSync(file) || !statSync(file).isFile()) {
      res.statusCode = 404;
      return res.end(`not found: ${url.pathname}`);
    }
    res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
    res.setHeader('Content-Length', statSync(file).size);
    res.setHeader('Cache-Control', mount.cache(file));
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).on('error', next).pipe(res);
  };
}

function taesdServe(): Plugin {
  const mounts: Mount[] = [
    {
      prefix: '/shared/',
      dir: SHARED,
      extensions: null,
      cache: (path) => (/\.(json|png|jpe?g|webp)$/i.test(path) ? 'no-store' : 'no-cache'),
    },
    { prefix: '/ort/', dir: ORT_DIST, extensions: ['.wasm', '.mjs'], cache: () => 'public, max-age=3600' },
    // progress.json and latest.* are rewritten in place many times a second.
    { prefix: '/jobs/', dir: JOBS, extensions: ['.json', '.jpeg', '.jpg', '.png'], cache: () => 'no-store' },
  ];
  const install = (middlewares: Connect.Server) => {
    middlewares.use((_req, res, next) => {
      for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
      next();
    });
    for (const m of mounts) middlewares.use(serveFolder(m));
  };
  return {
    name: 'taesd-serve',
    configureServer: (server) => install(server.middlewares),
    configurePreviewServer: (server) => install(server.middlewares),
  };
}

if (!existsSync(SHARED)) console.warn(`[taesd] shared folder not found at ${SHARED} (set TAESD_SHARED); /shared/* will 404`);

export default defineConfig({
  root: join(ROOT, 'demo'),
  plugins: [taesdServe()],
  resolve: {
    // The package's entries (package.json `exports`) by name, as an app that installed it imports them.
    alias: [
      { find: /^taesd-web$/, replacement: join(ROOT, 'src/index.ts') },
      { find: /^taesd-web\/(node|image|progress)$/, replacement: join(ROOT, 'src/$1.ts') },
    ],
  },
  server: {
    headers: { ...ISOLATION_HEADERS },
    // node_modules too where it is a link out of the project (a git worktree sharing another's).
    fs: { allow: [ROOT, SHARED, ...(existsSync(join(ROOT, 'node_modules')) ? [realpathSync(join(ROOT, 'node_modules'))] : [])] },
    ...(STATIC && { hmr: false, watch: null }),
  },
  preview: { headers: { ...ISOLATION_HEADERS } },
  optimizeDeps: {
    // onnxruntime-web loads its .wasm (and thread workers) relative to its own module; keep it
    // out of Vite's pre-bundling. Pre-bundle the rest up front so the page never reloads mid-test.
    exclude: ['onnxruntime-web'],
    include: ['fflate'],
    entries: ['index.html', 'test.html'],
  },
  // Relative asset URLs: the built demo works from any folder of any static server.
  base: './',
  build: {
    outDir: join(ROOT, 'dist/demo'),
    emptyOutDir: true,
    target: 'es2022',
    // The demo alone: the test and bench pages read ../shared through the dev server.
    rollupOptions: { input: { index: join(ROOT, 'demo/index.html') } },
  },
});
