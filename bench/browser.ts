// The browser benchmark: Vite + headless Chromium (WebGPU on SwiftShader here) on demo/bench.html,
// printed as a Markdown table.   npm run build && node dist/bench/browser.js [latent] [repeats=3]
//   latent: a golden name (default taef2_rand_8x8), or name@N for its centre NxN (taef2_astronaut@16).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { chromium, type Browser } from '@playwright/test';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';

/** What demo/bench.ts puts on window.taesdBench (the fields printed here). */
interface Row {
  decoder: string;
  createMs: number | null;
  firstMs: number | null;
  medianMs: number | null;
  gflops: number | null;
  maxAbsDiff: number | null;
  note: string;
  error?: string;
}
interface Report {
  latent: string;
  shape: number[];
  repeats: number;
  gflop: number;
  adapter: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  wgslVsReference: number | null;
  auto: { backend: string; reason: string; createMs: number } | { error: string };
  rows: Row[];
}
type State = { status: 'running' } | { status: 'done'; report: Report } | { status: 'error'; error: string };

/** Same as playwright.config.ts (Dawn and ANGLE on SwiftShader's Vulkan). */
const CHROMIUM = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
};
const SERVER_TIMEOUT_MS = 60_000;
const BENCH_TIMEOUT_MS = 8 * 60_000;

const [latentArg = 'taef2_rand_8x8', repeats = '3'] = process.argv.slice(2);
const [latent, crop] = latentArg.split('@') as [string, string | undefined];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Vite as playwright.config.ts's webServer runs it, in its own process group (killed as one). */
async function startVite(port: number): Promise<ChildProcess> {
  const vite = spawn('npx', ['vite', '--config', 'vite.config.ts', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, TAESD_VITE_STATIC: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  vite.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const deadline = Date.now() + SERVER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (vite.exitCode !== null) throw new Error(`vite exited (${vite.exitCode}): ${stderr.trim()}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/bench.html`)).ok) return vite;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stopVite(vite);
  throw new Error(`vite did not answer within ${SERVER_TIMEOUT_MS / 1000} s: ${stderr.trim()}`);
}

function stopVite(vite: ChildProcess | null): void {
  if (!vite?.pid || vite.exitCode !== null || vite.signalCode !== null) return;
  try {
    process.kill(-vite.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

const ms = (x: number | null): string => (x === null ? '-' : x < 10 ? x.toFixed(2) : x.toFixed(0));
const diff = (x: number | null): string => (x === null ? '-' : x.toExponential(1));

function print(r: Report): void {
  const auto = 'error' in r.auto ? `failed: ${r.auto.error}` : `${r.auto.backend} (${r.auto.reason})`;
  const chrome = /Chrome\/(\S+)/.exec(r.userAgent)?.[1] ?? r.userAgent;
  console.log(`latent ${r.latent} [${r.shape.join(',')}] (${r.gflop.toFixed(2)} GFLOP), ${r.repeats} warm decodes; Chromium ${chrome}, adapter: ${r.adapter}; ` +
    `cross-origin isolated: ${r.crossOriginIsolated}, ${r.hardwareConcurrency} cores`);
  console.log(`auto picks: ${auto}`);
  if (r.wgslVsReference !== null) console.log(`WGSL vs the golden's reference output: max |diff| ${diff(r.wgslVsReference)}`);
  console.log('\n| decoder | create (ms) | first decode (ms) | median (ms) | GFLOP/s | max \\|diff\\| vs WGSL | note |\n| --- | --- | --- | --- | --- | --- | --- |');
  for (const x of r.rows) {
    const note = (x.error ? `failed: ${x.error}` : x.note).replaceAll('|', '\\|').replaceAll('\n', ' ');
    console.log(`| ${x.decoder} | ${ms(x.createMs)} | ${ms(x.firstMs)} | ${ms(x.medianMs)} | ${x.gflops === null ? '-' : x.gflops.toFixed(2)} | ${diff(x.maxAbsDiff)} | ${note} |`);
  }
}

let vite: ChildProcess | null = null;
let browser: Browser | null = null;
// Last resort if closing hangs: never outlive the bench by more than a minute.
const watchdog = setTimeout(() => { stopVite(vite); process.exit(2); }, SERVER_TIMEOUT_MS + BENCH_TIMEOUT_MS + 60_000);
watchdog.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stopVite(vite); process.exit(130); });

try {
  const port = await freePort();
  vite = await startVite(port);
  browser = await chromium.launch(CHROMIUM);
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`); });
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  const query = new URLSearchParams({ latent, repeats, ...(crop !== undefined && { crop }) });
  await page.goto(`http://127.0.0.1:${port}/bench.html?${query}`);
  await page.waitForFunction(() => {
    const state = (window as unknown as { taesdBench?: State }).taesdBench;
    return state !== undefined && state.status !== 'running';
  }, undefined, { timeout: BENCH_TIMEOUT_MS, polling: 500 }).catch(() => undefined);
  const state = await page.evaluate(() => (window as unknown as { taesdBench?: State }).taesdBench);
  if (state?.status !== 'done') throw new Error(state?.status === 'error' ? `bench page failed: ${state.error}` : `no results within ${BENCH_TIMEOUT_MS / 1000} s`);
  print(state.report);
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  stopVite(vite);
  clearTimeout(watchdog);
}
