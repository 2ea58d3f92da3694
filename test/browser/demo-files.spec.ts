// Loading your own latents and weights into the demo: step files picked with the file input (out
// of name order); a ComfyUI .latent, a .npy batch and a decoder file dropped with a DataTransfer;
// weights from a URL, used on WASM at a partial-decode scale.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { encodeSafetensors } from '../../src/weights/safetensors.js';
import { npyFile } from '../support/hostileFiles.js';
import { ROOT } from '../support/shared.js';
import { openDemo, playRun } from './demoPage.js';
import { expect, test } from './fixtures.js';

/** Drops files on the page the way a user does: a `drop` event whose DataTransfer holds them. */
async function dropFiles(page: Page, files: { name: string; bytes: Uint8Array }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, base64: Buffer.from(f.bytes).toString('base64') }));
  await page.evaluate((list) => {
    const dt = new DataTransfer();
    for (const f of list) dt.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name));
    const target = document.getElementById('drop')!;
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, payload);
}

test('picked step files play in name order; the model comes from the channel count', async ({ page }) => {
  await openDemo(page);
  const dir = join(ROOT, 'examples/steps');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).reverse();
  await page.setInputFiles('#files', names.map((n) => join(dir, n)));
  await expect(page.locator('#source')).toHaveValue('files');
  await expect(page.locator('#source-note')).toHaveText('8 step files: [32,16,16]');
  await expect(page.locator('#model')).toHaveValue('taef2');
  await page.selectOption('#backend', 'linear');
  expect((await playRun(page)).state).toBe('done');
  const labels = await page.locator('#filmstrip span').allTextContents();
  expect(labels).toEqual(['step_00', 'step_01', 'step_02', 'step_03', 'step_04', 'step_05', 'step_06', 'step_07']);
});

test('dropped: a ComfyUI .latent (VAE space), a .npy batch, and decoder weights', async ({ page }) => {
  await openDemo(page);
  // ComfyUI's SaveLatent: latent_tensor [1,4,h,w] in raw VAE space, plus its format marker.
  const vae = Float32Array.from({ length: 4 * 6 * 8 }, (_, i) => Math.cos(i / 7) * 3);
  const comfy = encodeSafetensors({
    latent_tensor: { dtype: 'F32', shape: [1, 4, 6, 8], data: vae },
    latent_format_version_0: { dtype: 'F32', shape: [1], data: Float32Array.of(0) },
  });
  await dropFiles(page, [{ name: 'ComfyUI_00001_.latent', bytes: comfy }]);
  await expect(page.locator('#source-note')).toHaveText('ComfyUI_00001_.latent: [1,4,6,8], raw VAE latents (ComfyUI .latent). 4 channels fit taesd or taesdxl: using taesd; pick the model if it is the other.');
  await expect(page.locator('#model')).toHaveValue('taesd');
  await page.selectOption('#backend', 'linear');
  expect((await playRun(page)).state).toBe('done');
  await expect(page.locator('#output')).toHaveText('8×6 px from a 4×6×8 latent');

  // A batch of three 32-channel latents in one .npy: decoded together, one frame per item.
  const batch = Float32Array.from({ length: 3 * 32 * 4 * 4 }, (_, i) => Math.sin(i / 11));
  await dropFiles(page, [{ name: 'batch.npy', bytes: npyFile([3, 32, 4, 4], batch) }]);
  await expect(page.locator('#model')).toHaveValue('taef2');
  expect((await playRun(page)).state).toBe('done');
  await expect(page.locator('#step')).toHaveText('item 3 / 3');
  expect(await page.locator('#filmstrip span').allTextContents()).toEqual(['item 1 of 3', 'item 2 of 3', 'item 3 of 3']);

  // The shipped decoder dropped as a file becomes taef2's weights.
  await dropFiles(page, [{ name: 'taef2_decoder.pth', bytes: await readFile(join(ROOT, 'models/taef2_decoder.pth')) }]);
  await expect(page.locator('#weights-help')).toHaveText('Weights: taef2_decoder.pth (your file)');
});

test('weights from a URL decode the shipped steps on WASM at scale 1/8', async ({ page }) => {
  await openDemo(page);
  // The shipped decoder as the dev server serves it: any URL the page may fetch will do.
  const url = new URL(`/@fs${join(ROOT, 'models/taef2_decoder.pth')}`, page.url()).href;
  await page.fill('#weights-url', url);
  await page.locator('#weights-url').dispatchEvent('change');
  await expect(page.locator('#weights-help')).toHaveText(`Weights: ${url}`);
  await page.selectOption('#source', 'steps');
  await page.selectOption('#backend', 'wasm');
  await page.selectOption('#scale', '0.125');
  const run = await playRun(page, 240_000);
  expect(run.state, run.text).toBe('done');
  await expect(page.locator('#output')).toHaveText('16×16 px from a 32×16×16 latent, scale 1/8');
  await expect(page.locator('#filmstrip button')).toHaveCount(8);
});

test('a bad file after good ones: the view is cleared, the error shown, and the old files do not play', async ({ page }) => {
  await openDemo(page);
  const dir = join(ROOT, 'examples/steps');
  const names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors'));
  await page.setInputFiles('#files', names.map((n) => join(dir, n)));
  await page.selectOption('#backend', 'linear');
  expect((await playRun(page)).state).toBe('done');
  await expect(page.locator('#filmstrip button')).toHaveCount(8);

  await page.setInputFiles('#files', { name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('not a safetensors file at all') });
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'error');
  const error = (await page.locator('#status').textContent())!;
  expect(error).toMatch(/^WEIGHTS_CORRUPT: |^LATENT_/);
  await expect(page.locator('#source-note')).toHaveText(`Not played: ${error}`);
  await expect(page.locator('#canvas-empty')).toHaveText(`Not played: ${error}`);
  await expect(page.locator('#filmstrip button')).toHaveCount(0);
  await expect(page.locator('#dl-png')).toBeDisabled();

  // Play now has no files to play: it says so instead of playing the previous ones.
  const run = await playRun(page);
  expect(run).toEqual({ state: 'error', text: 'drop latent files on the page, or choose them, first' });
  await expect(page.locator('#filmstrip button')).toHaveCount(0);
});
