// `npm run demo:build` makes a static site that works from any folder of any static server: built
// here, served from a sub-folder by a plain file server (content types, and the COOP/COEP headers
// or not), and played on WASM (in its worker) and on the GPU-resident example.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { ROOT } from '../support/shared.js';
import { openDemo, playRun, settled } from './demoPage.js';
import { expect, test } from './fixtures.js';

const SITE = join(ROOT, 'dist/demo');
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png',
};
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** A plain file server: `dist/demo` at /some/folder/, with or without the isolation headers. */
async function serveSite(isolated: boolean): Promise<{ url: string; close: () => Promise<void> }> {
  const prefix = '/some/folder/';
  const server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const file = normalize(join(SITE, path.startsWith(prefix) ? path.slice(prefix.length) || 'index.html' : '\0'));
      try {
        if (!file.startsWith(SITE + sep)) throw new Error('outside');
        const body = await readFile(file);
        res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...(isolated && ISOLATION) }).end(body);
      } catch {
        res.writeHead(404).end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}${prefix}`, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }) };
}

test.beforeAll(() => {
  execFileSync('npm', ['run', '--silent', 'demo:build'], { cwd: ROOT, stdio: 'ignore' });
});

for (const isolated of [true, false]) {
  test(`the static build from a sub-folder, ${isolated ? 'with' : 'without'} COOP/COEP: a run on WASM${isolated ? ', the GPU example' : ''}`, async ({ page }) => {
    test.setTimeout(300_000);
    const site = await serveSite(isolated);
    try {
      await openDemo(page, site.url);
      await expect(page.locator('#isolation')).toHaveText(isolated ? 'cross-origin isolated: WASM can use threads' : 'not cross-origin isolated: WASM runs on one thread');
      await page.selectOption('#source', 'steps');
      await page.selectOption('#backend', 'wasm');
      const run = await playRun(page, 240_000);
      expect(run.state, run.text).toBe('done');
      const chosen = (await page.locator('#chosen').textContent())!;
      console.log(`static build, ${isolated ? 'isolated' : 'not isolated'}: ${chosen}; per step ${await page.locator('#per-step').textContent()}`);
      // Threads need cross-origin isolation (SharedArrayBuffer): the cores, at most 4, else 1.
      const threads = isolated ? Math.min(4, await page.evaluate(() => navigator.hardwareConcurrency)) : 1;
      expect(chosen.startsWith(`wasm, ${threads} thread${threads > 1 ? 's' : ''}:`), chosen).toBe(true);
      if (isolated) {
        await expect(page.locator('#gpu-status')).toHaveAttribute('data-state', 'ready');
        await page.selectOption('#gpu-size', '8');
        await page.click('#gpu-start');
        const gpu = await settled(page, 'gpu-status', 240_000);
        expect(gpu.state, gpu.text).toBe('done');
      }
    } finally {
      await site.close();
    }
  });
}
