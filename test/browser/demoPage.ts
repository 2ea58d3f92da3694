// Helpers for the demo page's specs (demo*.spec.ts): open it, wait for a section's status, read a
// 2D canvas's pixels, and what `auto` must pick in this browser.
import type { Page } from '@playwright/test';
import { expect } from './fixtures.js';

/** Status elements: the run (#status), Follow a job (#poll-status), the GPU section (#gpu-status). */
export type StatusId = 'status' | 'poll-status' | 'gpu-status';

const FINISHED = ['done', 'stopped', 'error'];

/** Opens the demo (the dev server's, or the one at `url`) and waits until it is ready. */
export async function openDemo(page: Page, url = '/'): Promise<void> {
  await page.goto(url);
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

/** Waits until a section's status leaves busy; returns its state and text. */
export async function settled(page: Page, id: StatusId = 'status', timeout = 120_000): Promise<{ state: string; text: string }> {
  await page.waitForFunction(([el, states]) => states.includes(document.getElementById(el)!.dataset.state ?? ''), [id, FINISHED] as const, { timeout });
  const status = page.locator(`#${id}`);
  return { state: (await status.getAttribute('data-state'))!, text: (await status.textContent())! };
}

/** Plays the current settings and waits for the run to end. */
export async function playRun(page: Page, timeout?: number): Promise<{ state: string; text: string }> {
  await page.click('#play-button');
  return settled(page, 'status', timeout);
}

/** A 2D canvas's size and RGBA pixels. */
export function canvasPixels(page: Page, selector: string): Promise<{ width: number; height: number; rgba: number[] }> {
  return page.evaluate((sel) => {
    const c = document.querySelector<HTMLCanvasElement>(sel)!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
    return { width: d.width, height: d.height, rgba: Array.from(d.data) };
  }, selector);
}

/** What `auto` picks in a browser: WASM without WebGPU or on a CPU-emulated adapter (SwiftShader, lavapipe), else WebGPU. */
export function autoBackendRule(page: Page): Promise<'wasm' | 'webgpu'> {
  return page.evaluate(async () => {
    const adapter = 'gpu' in navigator ? await navigator.gpu.requestAdapter() : null;
    if (!adapter) return 'wasm';
    const i = adapter.info;
    const emulated = i.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${i.vendor} ${i.architecture} ${i.device} ${i.description}`);
    return emulated ? 'wasm' : 'webgpu';
  });
}

/** Page width checks: the document never scrolls sideways. */
export function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
}

/**
 * Options whose text is wider than their select's box (less padding and the arrow), so a
 * selected one would show cut off: `#id: text` for each.
 */
export function clippedOptions(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const ctx = document.createElement('canvas').getContext('2d')!;
    const clipped: string[] = [];
    for (const select of document.querySelectorAll('select')) {
      if (select.offsetParent === null) continue; // not shown
      const cs = getComputedStyle(select);
      ctx.font = `${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
      const ARROW = 20;
      const room = select.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - ARROW;
      for (const o of select.options) if (ctx.measureText(o.text).width > room) clipped.push(`#${select.id}: ${o.text}`);
    }
    return clipped;
  });
}
