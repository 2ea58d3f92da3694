// The demo page (demo/index.html) with only what ships (no ../shared): a run played on the linear
// backend and on auto (whose choice follows the rule, not the machine), the warm-up kept apart
// from warm steps, the filmstrip, the downloads, Stop, and a model without local weights.
import { readFile } from 'node:fs/promises';
import { encodeSafetensors } from '../../src/weights/safetensors.js';
import { autoBackendRule, openDemo, playRun, settled } from './demoPage.js';
import { expect, test } from './fixtures.js';

test('a synthetic run on the linear backend: progress, steps in order, filmstrip, downloads', async ({ page }) => {
  await openDemo(page);
  await expect(page.locator('#source-note')).toContainText('not a real sampler');
  // Record every value the step counter shows (linear steps take about a millisecond).
  await page.evaluate(() => {
    const step = document.getElementById('step')!;
    const seen: string[] = [];
    (window as unknown as { stepsSeen: string[] }).stepsSeen = seen;
    new MutationObserver(() => seen.push(step.textContent ?? '')).observe(step, { childList: true, characterData: true, subtree: true });
  });
  await page.selectOption('#backend', 'linear');
  await page.fill('#steps', '4');
  const run = await playRun(page);
  expect(run.state).toBe('done');
  const seen = await page.evaluate(() => (window as unknown as { stepsSeen: string[] }).stepsSeen);
  expect(seen.filter((s) => s.startsWith('step '))).toEqual(['step 1 / 4', 'step 2 / 4', 'step 3 / 4', 'step 4 / 4']);
  await expect(page.locator('#progress')).toHaveJSProperty('value', 4);
  await expect(page.locator('#chosen')).toHaveText(/^linear/);
  await expect(page.locator('#output')).toHaveText('64×64 px from a 32×64×64 latent');
  await expect(page.locator('#filmstrip button')).toHaveCount(4);

  // Back through the filmstrip: step 0 (noise) is shown again and marked.
  await page.locator('#filmstrip button').first().click();
  await expect(page.locator('#taesd-caption')).toContainText('step 0');
  await expect(page.locator('#filmstrip button').first()).toHaveAttribute('aria-current', 'true');

  // Downloads: the step on show as PNG and JPEG, the run as a contact sheet and an APNG.
  const saved: Record<string, Buffer> = {};
  for (const id of ['dl-png', 'dl-jpeg', 'dl-sheet', 'dl-apng']) {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click(`#${id}`)]);
    saved[download.suggestedFilename()] = await readFile((await download.path())!);
  }
  expect(Object.keys(saved).sort()).toEqual(['taesd-run-sheet.png', 'taesd-run.apng', 'taesd-step-0.jpeg', 'taesd-step-0.png']);
  const png = [0x89, 0x50, 0x4e, 0x47];
  expect([...saved['taesd-step-0.png']!.subarray(0, 4)]).toEqual(png);
  expect([...saved['taesd-run-sheet.png']!.subarray(0, 4)]).toEqual(png);
  expect(saved['taesd-run.apng']!.includes('acTL')).toBe(true);
  expect([...saved['taesd-step-0.jpeg']!.subarray(0, 2)]).toEqual([0xff, 0xd8]);
});

test('auto follows the rule (WASM on a CPU-emulated adapter); the first decode is shown apart', async ({ page }) => {
  await openDemo(page);
  const rule = await autoBackendRule(page);
  await page.selectOption('#source', 'steps');
  const run = await playRun(page, 240_000);
  expect(run.state, run.text).toBe('done');
  const chosen = (await page.locator('#chosen').textContent())!;
  const warmup = (await page.locator('#warmup').textContent())!;
  const perStep = (await page.locator('#per-step').textContent())!;
  console.log(`demo auto: ${chosen}\n  warm-up: ${warmup}\n  per step: ${perStep}`);
  expect(chosen.split(/[,:]/)[0]).toBe(rule);
  expect(warmup).toMatch(/the first decode/);
  expect(warmup).toMatch(/decoder start/);
  expect(perStep).toMatch(/median of 7$/);
  await expect(page.locator('#output')).toHaveText('128×128 px from a 32×16×16 latent');
  await expect(page.locator('#filmstrip button')).toHaveCount(8);
  await expect(page.locator('#taesd-caption')).toContainText(`TAESD on ${rule} · step_07`);
});

test('Stop: the decode in flight finishes, nothing new starts', async ({ page }) => {
  await openDemo(page);
  await page.selectOption('#source', 'steps');
  await page.selectOption('#backend', 'wasm');
  // Stop in the task that shows the first step: a fast machine decodes several steps between two polls of the page.
  await page.evaluate(() => {
    const strip = document.querySelector('#filmstrip')!;
    const observer = new MutationObserver(() => {
      const shown = strip.querySelectorAll('button').length;
      if (!shown) return;
      observer.disconnect();
      (window as unknown as { atStop: number }).atStop = shown;
      document.querySelector<HTMLButtonElement>('#stop')!.click();
    });
    observer.observe(strip, { childList: true, subtree: true });
  });
  await page.click('#play-button');
  const run = await settled(page);
  const atStop = await page.evaluate(() => (window as unknown as { atStop: number }).atStop);
  expect(atStop).toBe(1);
  expect(run.state).toBe('stopped');
  const after = await page.locator('#filmstrip button').count();
  expect(after).toBeGreaterThanOrEqual(atStop);
  expect(after).toBeLessThanOrEqual(atStop + 1);
  await page.waitForTimeout(1000);
  await expect(page.locator('#filmstrip button')).toHaveCount(after);
  await expect(page.locator('#play-button')).toBeEnabled();
});

test('a 4-channel latent picks an SD model, says how to get its weights, and plays on linear', async ({ page }) => {
  await openDemo(page);
  // A finished run first, so stale values would show next to the error.
  await page.selectOption('#backend', 'linear');
  await page.fill('#steps', '2');
  expect((await playRun(page)).state).toBe('done');

  const latent = Float32Array.from({ length: 4 * 8 * 8 }, (_, i) => Math.sin(i / 5));
  const bytes = encodeSafetensors({ latent: { dtype: 'F32', shape: [4, 8, 8], data: latent } });
  await page.setInputFiles('#files', { name: 'sd_latent.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
  await expect(page.locator('#source')).toHaveValue('files');
  await expect(page.locator('#model')).toHaveValue('taesd');
  await expect(page.locator('#source-note')).toContainText('4 channels fit taesd or taesdxl');
  await expect(page.locator('#weights-help')).toContainText('npx taesd-web fetch-models taesd');

  await page.selectOption('#backend', 'auto');
  const failed = await playRun(page);
  expect(failed.state).toBe('error');
  expect(failed.text).toContain('npx taesd-web fetch-models taesd');
  for (const id of ['#warmup', '#per-step', '#chosen', '#output']) await expect(page.locator(id)).toHaveText('–');
  await expect(page.locator('#filmstrip button')).toHaveCount(0);

  await page.selectOption('#backend', 'linear');
  expect((await playRun(page)).state).toBe('done');
  await expect(page.locator('#output')).toHaveText('8×8 px from a 4×8×8 latent');
});
