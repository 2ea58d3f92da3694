// One browser configuration on one latent size, in a fresh headless Chromium (Debian's, with the
// flags of playwright.config.ts): opens bench/web/ and prints its lines as child.ts prints its own,
// adding the browser's peak memory (all its processes).
//   node dist/bench/browser.js <config> <size> [--url URL] [--skip K] [--runs MIN,MAX] [--budget MS] [--timeout S] [--ref]
// --ref checks the output against the run's reference; without --url it starts the page server
// itself (bench/server.ts), with no reference outputs.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser } from '@playwright/test';
import { findAssets } from './assets.js';
import { errorText } from './measure.js';
import { samplePeakMemory } from './procs.js';
import { startBenchServer } from './server.js';
import type { PageState } from './web/page.js';

/** Same as playwright.config.ts (Dawn and ANGLE on SwiftShader's Vulkan). */
const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
};

const { values: opts, positionals: [config = '', size = ''] } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    skip: { type: 'string', default: '0' },
    runs: { type: 'string', default: '3,20' },
    budget: { type: 'string', default: '4000' },
    timeout: { type: 'string', default: '600' },
    ref: { type: 'boolean', default: false },
  },
});
const print = (line: object): void => console.log(JSON.stringify(line));

const server = opts.url ? null : await startBenchServer(mkdtempSync(join(tmpdir(), 'taesd-bench-')), findAssets());
let browser: Browser | null = null;
const memory = samplePeakMemory(process.pid, { tree: true });
try {
  browser = await chromium.launch(CHROMIUM);
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error(`[page] ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  const [minRuns, maxRuns] = opts.runs!.split(',');
  const query = new URLSearchParams({ config, size, skip: opts.skip!, minRuns: minRuns!, maxRuns: maxRuns!, budget: opts.budget!, ...(opts.ref && { ref: '' }) });
  await page.goto(`${opts.url ?? server!.url}?${query}`);
  await page.waitForFunction(() => window.taesdBench?.done, undefined, { timeout: Number(opts.timeout) * 1000, polling: 500 });
  const state = await page.evaluate(() => window.taesdBench) as PageState;
  for (const line of state.lines) print(line);
} catch (e) {
  print({ config, size: Number(size), skip: Number(opts.skip), kind: 'error', message: errorText(e) });
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  const peakRssMiB = memory.stop();
  if (peakRssMiB !== null) print({ config, size: Number(size), skip: Number(opts.skip), kind: 'memory', peakRssMiB, rssOf: 'Chromium (all its processes) and its Playwright driver' });
  await server?.close();
}
