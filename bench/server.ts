// The dev server for the benchmark page (bench/web/): the project's vite.config.ts (COOP/COEP
// headers, /ort/ for onnxruntime-web's files, `taesd-web` from src/) with bench/web as its root,
// plus /bench-data/: the run's weights, astronaut latent and reference outputs.
import { createReadStream, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Plugin } from 'vite';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import type { Assets } from './assets.js';

function benchData(dataDir: string, assets: Assets): Plugin {
  const files: Record<string, string> = { 'weights.safetensors': assets.weights, 'astronaut.safetensors': assets.astronaut };
  return {
    name: 'taesd-bench-data',
    configureServer: (server) => {
      server.middlewares.use('/bench-data/', (req, res) => {
        const name = basename(new URL(req.url ?? '/', 'http://x').pathname);
        const file = files[name] ?? (/^ref-\d+-s\d+\.f32$/.test(name) ? join(dataDir, name) : null);
        if (!file || !existsSync(file)) {
          res.statusCode = 404;
          return res.end();
        }
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(file).pipe(res);
      });
    },
  };
}

/** Starts Vite on a free port; `url` is the page's address. */
export async function startBenchServer(dataDir: string, assets: Assets): Promise<{ url: string; close(): Promise<void> }> {
  process.env.TAESD_VITE_STATIC = '1'; // no watching or HMR: nothing may reload the page mid-run
  const { createServer } = await import('vite');
  const server = await createServer({
    configFile: join(PACKAGE_ROOT, 'vite.config.ts'),
    root: join(PACKAGE_ROOT, 'bench/web'),
    server: { host: '127.0.0.1', port: 0 },
    plugins: [benchData(dataDir, assets)],
    // Found up front, so no dependency is optimised (and the page reloaded) during a run.
    optimizeDeps: { entries: ['index.html'], exclude: ['onnxruntime-web/webgpu'] },
    logLevel: 'warn',
    clearScreen: false,
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('the benchmark page server has no address');
  return { url, close: () => server.close() };
}
