// The ComfyUI frontend extension (integrations/comfyui/web/taesd_web.js, with the bundle
// `npm run build:comfyui` makes) in Chromium, against the bridge's real Python route. ComfyUI's
// frontend is not available here, so its two modules the extension imports (scripts/app.js,
// scripts/api.js) are small stand-ins that record what the extension registers and raises.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packFlux2 } from '../../src/model/latent.js';
import { makeStepMessage, startHubServer, type HubServer } from '../support/comfyServer.js';
import { loadGolden, maxLevelDiff, toRgb8 } from '../support/golden.js';
import { pythonMissing } from '../support/python.js';
import { HAS_SHARED, NO_SHARED_REASON } from '../support/shared.js';
import { expect, test } from './fixtures.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// Served as ComfyUI serves it: WEB_DIRECTORY at /extensions/<folder>/, its scripts at /scripts/.
const WEB_DIR = join(ROOT, 'integrations/comfyui/web');
const MISSING = HAS_SHARED ? pythonMissing() : NO_SHARED_REASON;
test.skip(MISSING !== null, MISSING ?? '');

const APP_JS = `
export const app = {
  registerExtension(ext) { window.comfyStandIn.extensions.push(ext); },
  extensionManager: { setting: { get: (id) => window.comfyStandIn.settings[id] } },
};`;
const API_JS = `
export const api = {
  apiURL: (path) => path.startsWith('/taesd-web/weights/') ? '/comfy/api' + path : 'http://127.0.0.1:' + window.comfyStandIn.port + path,
  dispatchCustomEvent(type, detail) { window.comfyStandIn.events.push({ type, detail }); },
  addEventListener(type, listener) { (window.comfyStandIn.listeners[type] ??= []).push(listener); },
};`;

let server: HubServer;
test.beforeAll(async () => {
  // The bundle from the current sources (it is a build output, not committed).
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-comfyui-web.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-comfyui-web failed: ${r.stderr}`);
  const g = loadGolden('taef2_rand_8x8');
  const dir = mkdtempSync(join(tmpdir(), 'taesd-comfy-ext-'));
  server = await startHubServer([makeStepMessage(dir, 'flux2', packFlux2(g.latent.data as Float32Array, 8, 8), [1, 128, 4, 4], 'Flux2', 5, 20)]);
});
test.afterAll(() => server?.close());

test('off opens no socket; on, each step of the prompt this tab runs shows as a node preview event with the decoded image; off again stops', async ({ page }) => {
  const js = (body: string | Buffer) => ({ contentType: 'text/javascript', body });
  await page.route('**/comfy/scripts/app.js', (r) => r.fulfill(js(APP_JS)));
  await page.route('**/comfy/scripts/api.js', (r) => r.fulfill(js(API_JS)));
  // The node's weights route, as when models/vae_approx lacks the file: a redirect to the pinned upstream one (here ../shared's).
  await page.route('**/comfy/api/taesd-web/weights/*', (r) => r.fulfill({ status: 302, headers: { location: `/shared/models/${r.request().url().split('/').pop()}_decoder.safetensors` } }));
  await page.route('**/comfy/extensions/taesd-web/**', (r) => r.fulfill(js(readFileSync(join(WEB_DIR, new URL(r.request().url()).pathname.split('/comfy/extensions/taesd-web/')[1]!)))));
  await page.goto('/test.html');
  await page.evaluate(async ([src, port]) => {
    const sockets: string[] = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) { super(url, protocols); sockets.push(String(url)); }
    };
    (window as unknown as { comfyStandIn: object }).comfyStandIn = { extensions: [], events: [], listeners: {}, settings: { 'TaesdWeb.DecodeInBrowser': false }, port, sockets };
    await import(/* @vite-ignore */ src);
  }, ['/comfy/extensions/taesd-web/taesd_web.js', server.port] as const);

  type StandIn = { extensions: { name: string; settings: { id: string; defaultValue: unknown; onChange(v: boolean): void }[]; setup(): void }[]; events: { type: string; detail: Record<string, unknown> }[]; sockets: string[]; listeners: Record<string, ((e: { detail: unknown }) => void)[]> };
  const ext = await page.evaluate(() => {
    const s = (window as unknown as { comfyStandIn: StandIn }).comfyStandIn;
    s.extensions[0]!.setup();
    return { name: s.extensions[0]!.name, setting: s.extensions[0]!.settings[0]!.id, defaultValue: s.extensions[0]!.settings[0]!.defaultValue };
  });
  expect(ext).toEqual({ name: 'taesd-web.preview', setting: 'TaesdWeb.DecodeInBrowser', defaultValue: false });
  await page.waitForTimeout(500);
  expect(await page.evaluate(() => (window as unknown as { comfyStandIn: StandIn }).comfyStandIn.sockets)).toEqual([]);

  const shown = await page.evaluate(async () => {
    const s = (window as unknown as { comfyStandIn: StandIn }).comfyStandIn;
    s.extensions[0]!.settings[0]!.onChange(true);
    // Steps of a prompt this tab did not start are not drawn...
    await new Promise((r) => setTimeout(r, 1500));
    const before = s.events.length;
    // ...those of the one ComfyUI says this tab started are.
    for (const l of s.listeners['execution_start'] ?? []) l({ detail: { prompt_id: 'test-prompt' } });
    const t0 = performance.now();
    while (!s.events.length && performance.now() - t0 < 90_000) await new Promise((r) => setTimeout(r, 50));
    const e = s.events[0];
    if (!e) return null;
    const bitmap = await createImageBitmap(e.detail['blob'] as Blob);
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(bitmap, 0, 0);
    const { blob: _, ...detail } = e.detail;
    const cached = (await (await caches.open('taesd-web-weights')).keys()).map((k) => new URL(k.url).pathname);
    return { cached, before, type: e.type, detail, width: bitmap.width, height: bitmap.height, rgba: Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data), sockets: s.sockets };
  });
  expect(shown).not.toBeNull();
  expect(shown!.before).toBe(0);
  expect(shown!.cached).toEqual(['/comfy/api/taesd-web/weights/taef2']); // the redirected (pinned upstream) weights are kept
  expect(shown!.type).toBe('b_preview_with_metadata');
  expect(shown!.detail).toMatchObject({ nodeId: '3', displayNodeId: '3', realNodeId: '3', promptId: 'test-prompt', jobId: 'test-prompt' });
  expect(shown!.sockets).toEqual([`ws://127.0.0.1:${server.port}/taesd-web/ws?prompt_id=-`]);
  const g = loadGolden('taef2_rand_8x8');
  expect([shown!.width, shown!.height]).toEqual([64, 64]);
  const level = maxLevelDiff(Uint8ClampedArray.from(shown!.rgba), toRgb8(g.image.data as Float32Array, 64 * 64));
  console.log(`extension: node preview event ${shown!.width}x${shown!.height}, max level diff vs golden ${level}`);
  expect(level).toBeLessThanOrEqual(2);

  const after = await page.evaluate(async () => {
    const s = (window as unknown as { comfyStandIn: StandIn }).comfyStandIn;
    s.extensions[0]!.settings[0]!.onChange(false);
    await new Promise((r) => setTimeout(r, 300));
    const n = s.events.length;
    await new Promise((r) => setTimeout(r, 1000));
    return { before: n, after: s.events.length };
  });
  expect(after.after).toBe(after.before);
});
