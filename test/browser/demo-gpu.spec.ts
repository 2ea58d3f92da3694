// The demo's GPU-resident example (demo/gpuResident.ts): an onnxruntime-web WebGPU session's output
// buffer decoded on onnxruntime's own device. Its pixels equal the decode of the same values from
// the CPU, nothing on the path is mapped for reading but the output kernel's 4-byte count of
// non-finite values (#19), and onnxruntime's device keeps working after the decoder is destroyed. Also the section itself, with its two timings.
import { openDemo, settled } from './demoPage.js';
import { expect, test } from './fixtures.js';

test('GPU-resident path: same pixels as the CPU input, no MAP_READ but the 4-byte output check, the caller\'s device outlives the decoder', async ({ page }) => {
  test.setTimeout(300_000);
  await openDemo(page);
  // The demo's own modules, as the dev server serves them (its root is demo/).
  const r = await page.evaluate(async ([residentPath, shippedPath]) => {
    const { ResidentSampler } = (await import(/* @vite-ignore */ residentPath)) as typeof import('../../demo/gpuResident.js');
    const { loadWeights, TAEF2_WEIGHTS_URL } = (await import(/* @vite-ignore */ shippedPath)) as typeof import('../../demo/shipped.js');
    const s = await ResidentSampler.create(8, await loadWeights(TAEF2_WEIGHTS_URL, TAEF2_WEIGHTS_URL));
    const canvas = document.body.appendChild(document.createElement('canvas'));
    await s.drawResident(await s.step(), canvas); // warm-up: pipelines for this size

    // Record, from here on, buffers made with MAP_READ and buffers mapped for reading.
    const mapRead: string[] = [];
    const createBuffer = GPUDevice.prototype.createBuffer;
    GPUDevice.prototype.createBuffer = function (desc: GPUBufferDescriptor) {
      if (desc.usage & GPUBufferUsage.MAP_READ) mapRead.push(`created ${desc.label ?? '(no label)'}`);
      return createBuffer.call(this, desc);
    };
    const mapAsync = GPUBuffer.prototype.mapAsync;
    GPUBuffer.prototype.mapAsync = function (mode: GPUMapModeFlags, offset?: number, size?: number) {
      if (mode & GPUMapMode.READ) mapRead.push(`mapped ${this.label || '(no label)'}: ${size ?? this.size - (offset ?? 0)} B`);
      return mapAsync.call(this, mode, offset, size);
    };
    // A presented <canvas> reads back blank headless: copy it in the task that submits the frame.
    let drawn: Uint8ClampedArray | null = null;
    const queue = s.device.queue;
    const submit = queue.submit.bind(queue);
    queue.submit = (buffers: Iterable<GPUCommandBuffer>) => {
      submit(buffers);
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const ctx = copy.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(canvas, 0, 0);
      drawn = ctx.getImageData(0, 0, copy.width, copy.height).data;
    };
    const latent = await s.step();
    const location = latent.location;
    await s.drawResident(latent, canvas);
    queue.submit = submit;
    const onPath = [...mapRead];

    // The control: reading the latent and the image back is seen.
    const values = (await latent.getData()) as Float32Array;
    const cpu = await s.decoder.decode({ data: values, shape: s.shape });
    const control = mapRead.length - onPath.length;
    GPUDevice.prototype.createBuffer = createBuffer;
    GPUBuffer.prototype.mapAsync = mapAsync;
    let differing = 0;
    for (let i = 0; i < cpu.data.length; i++) if (drawn![i] !== cpu.data[i]) differing++;

    // The decoder goes; onnxruntime's device, which it was given, stays usable.
    s.decoder.destroy();
    let lost = false;
    void s.device.lost.then(() => (lost = true));
    const next = await s.step();
    const after = (await next.getData()) as Float32Array;
    await new Promise((resolve) => setTimeout(resolve, 100));
    return {
      location, onPath, control, differing, size: [cpu.width, cpu.height], drawnBytes: drawn!.length,
      stepAfterDestroy: after.length === values.length && after.every(Number.isFinite) && after.some((v, i) => v !== values[i]),
      lost,
    };
  }, ['/gpuResident.ts', '/shipped.ts']);
  console.log(`GPU-resident path: ${JSON.stringify(r)}`);
  expect(r.location).toBe('gpu-buffer');
  expect(r.size).toEqual([64, 64]);
  expect(r.drawnBytes).toBe(64 * 64 * 4);
  expect(r.differing).toBe(0);
  // Only the non-finite count (4 bytes) comes back; no latent, no pixels.
  expect(r.onPath.filter((e) => !e.endsWith(': 4 B'))).toEqual([]);
  expect(r.control).toBeGreaterThan(0);
  expect(r.stepAfterDestroy).toBe(true);
  expect(r.lost).toBe(false);
});

test('the GPU section runs its steps and shows both costs', async ({ page }) => {
  test.setTimeout(300_000);
  await openDemo(page);
  await expect(page.locator('#gpu-status')).toHaveAttribute('data-state', 'ready');
  await page.selectOption('#gpu-size', '8');
  await page.click('#gpu-start');
  const r = await settled(page, 'gpu-status', 280_000);
  expect(r.state, r.text).toBe('done');
  const resident = (await page.locator('#gpu-resident').textContent())!;
  const roundTrip = (await page.locator('#gpu-roundtrip').textContent())!;
  console.log(`GPU section (8x8 latent, ${r.text}):\n  GPU-resident: ${resident}\n  CPU round trip: ${roundTrip}`);
  expect(resident).toMatch(/decode \+ .* sampler step \(median of 5\)/);
  expect(roundTrip).toMatch(/: getData\(\) .*, then the decode from the CPU$/);
});
