// createDecoder: backend choice, one interface for every backend, and recovery from device loss.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { firstItem, isPrepared } from '../src/model/latent.js';
import { getModel } from '../src/model/registry.js';
import { encodeSafetensors } from '../src/weights/safetensors.js';
import { randomArray, randomStateDict } from './support/random.js';
import { probeBackends } from '../src/backend/choose.js';
import { memoryStore } from '../src/gpu/tune.js';
import { createDecoder, type BackendChange } from '../src/decoder.js';
import { WebGpuDecoder } from '../src/gpu/decoder.js';
import { loadNativeRuntime } from '../src/fallback/native.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { taef2Weights } from './support/golden.js';
import { deviceAdapterInfo, isFallbackAdapter, requestGpuDevice } from '../src/gpu/device.js';
import { loadGolden, maxLevelDiff, toRgb8, type Golden } from './support/golden.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, TAEF2_SAFETENSORS } from './support/shared.js';

// ../shared's 5x7 golden, for the suites that are skipped without ../shared.
let g: Golden;
let latent: { data: Float32Array; shape: readonly number[] };
beforeAll(() => {
  if (!HAS_SHARED) return;
  g = loadGolden('taef2_rand_5x7');
  latent = { data: g.latent.data, shape: g.latent.shape };
});

const hasNative = () => loadNativeRuntime().then(() => true, () => false);

/** What 'auto' must pick on this machine's adapter: the rule, applied to what the adapter says. */
async function expectedChoice(): Promise<{ backend: 'webgpu' | 'native' | 'wasm' | 'probe'; reason: RegExp }> {
  const { device } = await requestGpuDevice();
  const info = deviceAdapterInfo(device);
  device.destroy();
  // Without a GPU, Node takes native onnxruntime when it is installed (it is a devDependency here).
  if (info && isFallbackAdapter(info)) return { backend: (await hasNative()) ? 'native' : 'wasm', reason: /CPU-emulated/ };
  if (info && info.vendor !== '') return { backend: 'webgpu', reason: /hardware WebGPU adapter/ };
  return { backend: 'probe', reason: /timed probe/ };
}

describe.skipIf(!HAS_SHARED)('backend choice', () => {
  it("'auto' applies its rule to this machine's adapter and says why", async () => {
    const want = await expectedChoice();
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS });
    if (want.backend !== 'probe') expect(d.backend).toBe(want.backend);
    expect(d.backendReason).toMatch(want.reason);
    expect(d.model.id).toBe('taef2');
    expect(maxAbsDiff((await d.decodeRaw(latent)).data, g.image.data)).toBeLessThan(2e-3);
    d.destroy();
  });

  it("'auto' judges a caller's device by its adapter info too, and leaves the device alive", async () => {
    const want = await expectedChoice();
    const { device } = await requestGpuDevice();
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS, device });
    expect(d.backendReason).toMatch(want.reason);
    d.destroy();
    const lost = await Promise.race([device.lost.then(() => 'lost'), new Promise((r) => setTimeout(() => r('alive'), 100))]);
    expect(lost).toBe('alive');
    device.destroy();
  });

  it('times both backends when the adapter does not say what it is, once per adapter, in the store given', async () => {
    const { device } = await requestGpuDevice();
    const webgpu = new WebGpuDecoder(device, taef2Weights());
    const wasm = await createWasmDecoder(taef2Weights());
    const store = memoryStore();
    // 4x4, not the default 16x16: the rule is the same, and CPU-emulated WebGPU takes seconds per 16x16 decode.
    const first = await probeBackends('test adapter', webgpu, wasm, store, 4);
    expect(['webgpu', 'cpu']).toContain(first.pick);
    const [, tg, tw] = /timed probe \(4x4 latent\): webgpu (\d+) ms, wasm (\d+) ms/.exec(first.reason)!.map(Number);
    expect(first.pick).toBe(tg! <= tw! ? 'webgpu' : 'cpu');
    const again = await probeBackends('test adapter', webgpu, wasm, store, 4);
    expect(again).toEqual({ pick: first.pick, reason: `${first.reason} (cached for this adapter)` });
    expect(JSON.parse((await store.getItem('taesd-web:probe:wasm:test adapter'))!)).toEqual(first);
    // A store holding something else is measured afresh, not trusted.
    await store.setItem('taesd-web:probe:wasm:other', '{"pick":"cuda"}');
    expect((await probeBackends('other', webgpu, wasm, store, 4)).reason).not.toMatch(/cached/);
    webgpu.destroy(); wasm.destroy(); device.destroy();
  });

  it("'linear' needs no weights and returns the latent-resolution preview", async () => {
    const d = await createDecoder({ model: 'taef2', backend: 'linear' });
    const image = await d.decode(latent);
    expect([d.backend, image.width, image.height]).toEqual(['linear', 7, 5]);
    d.destroy();
  });

  it('rejects an unknown backend with BAD_OPTION', async () => {
    await expect(createDecoder({ weights: TAEF2_SAFETENSORS, backend: 'cuda' as never })).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});

describe('model detection', () => {
  const sd = randomStateDict(getModel('taesd'), 3);

  it('says when shapes alone cannot tell SD from SDXL, and then refuses VAE-space latents', async () => {
    const d = await createDecoder({ weights: sd, backend: 'linear' });
    expect(d.modelReason).toMatch(/ambiguous.*taesd or taesdxl/);
    const vae = { data: new Float32Array(4 * 2 * 2), shape: [4, 2, 2] };
    await expect(d.decode(vae, { latentSpace: 'vae' })).rejects.toThrow(expect.objectContaining({ code: 'BAD_OPTION', reason: 'MODEL_GUESSED' }));
    await expect(createDecoder({ weights: sd, backend: 'linear', latentSpace: 'vae' })).rejects.toThrow(expect.objectContaining({ code: 'BAD_OPTION', reason: 'MODEL_GUESSED' }));
    expect((await d.decode(vae)).width).toBe(2);
  });

  it('takes the model from the id, or from a file name that names it', async () => {
    const given = await createDecoder({ weights: sd, model: 'taesdxl', backend: 'linear' });
    expect([given.model.id, given.modelReason]).toEqual(['taesdxl', 'given']);
    const bytes = encodeSafetensors(Object.fromEntries([...sd].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: t.data }])));
    const path = join(mkdtempSync(join(tmpdir(), 'taesd-')), 'taesdxl_decoder.safetensors');
    writeFileSync(path, bytes);
    const named = await createDecoder({ weights: path, backend: 'linear' });
    expect(named.model.id).toBe('taesdxl');
    expect(named.modelReason).toMatch(/file name/);
  });
});

describe('a latent from prepareLatent is decoded as it is (issue #20 item 3)', () => {
  // SD 1.5's VAE space (scale 0.18215): mapping it twice would change every pixel.
  const weights = randomStateDict(getModel('taesd'), 4);
  const raw = { data: randomArray(4 * 5 * 7, 9, 5), shape: [4, 5, 7] };

  it.each(['linear', 'wasm', 'webgpu'] as const)('%s: mapped from VAE space once, and not scanned again', async (backend) => {
    const d = await createDecoder({ weights, model: 'taesd', backend });
    const vae = await d.decode(raw, { latentSpace: 'vae' });
    const prepared = d.prepareLatent(raw, { latentSpace: 'vae' });
    expect(isPrepared(prepared, d.model)).toBe(true);
    expect(await d.decode(prepared)).toEqual(vae);
    expect(await d.decode(prepared, { latentSpace: 'vae' })).toEqual(vae);
    // A NaN written after preparing is not refused as LATENT_NON_FINITE: the decode did not scan again. (The
    // output check catches it where the NaN reaches the output; a GPU's max() in ReLU may drop it.)
    const mine = d.prepareLatent({ data: raw.data.slice(), shape: raw.shape });
    mine.data[0] = NaN;
    const outcome = await d.decode(mine).then(() => 'decoded', (e: { code?: string }) => e.code);
    expect(['decoded', 'OUTPUT_NON_FINITE']).toContain(outcome);
    d.destroy();
  });

  it("a batch's first item stays prepared; a latent prepared for another model is checked again", async () => {
    const d = await createDecoder({ model: 'taef2', backend: 'linear' });
    const pair = d.prepareLatent({ data: new Float32Array(2 * 32 * 4 * 4), shape: [2, 32, 4, 4] });
    expect(pair.shape).toEqual([2, 32, 4, 4]);
    const first = firstItem(pair);
    expect([isPrepared(first, d.model), first.shape]).toEqual([true, [1, 32, 4, 4]]);
    const taesd = await createDecoder({ model: 'taesd', backend: 'linear' });
    await expect(taesd.decode(first)).rejects.toThrow(expect.objectContaining({ code: 'LATENT_CHANNELS' }));
    d.destroy();
    taesd.destroy();
  });
});

describe.skipIf(!HAS_SHARED)('WebGPU device loss', () => {
  it('re-creates the device once and decodes the step again', async () => {
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS, backend: 'webgpu', precision: 'f32' });
    const before = await d.decodeRaw(latent);
    const changes: BackendChange[] = [];
    d.onBackendChange((c) => changes.push(c));
    d.device!.destroy();
    const after = await d.decodeRaw(latent);
    expect(changes).toEqual([expect.objectContaining({ from: 'webgpu', to: 'webgpu' })]);
    expect(d.backend).toBe('webgpu');
    expect(after.data).toEqual(before.data);
    d.destroy();
  });

  it('destroys the device it requested when destroyed', async () => {
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS, backend: 'webgpu' });
    const device = d.device!;
    d.destroy();
    expect((await device.lost).reason).toBe('destroyed');
    await expect(d.decode(latent)).rejects.toMatchObject({ code: 'DESTROYED' });
  });

  it('shares one recovery between decodes in flight together', async () => {
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS, backend: 'webgpu', precision: 'f32' });
    await d.decode(latent);
    const changes: BackendChange[] = [];
    d.onBackendChange((c) => changes.push(c));
    const both = Promise.all([d.decodeRaw(latent), d.decodeRaw(latent)]);
    d.device!.destroy();
    const [a, b] = await both;
    expect(changes).toHaveLength(1);
    expect(maxAbsDiff(a.data, g.image.data)).toBeLessThan(2e-3);
    expect(b.data).toEqual(a.data);
    d.destroy();
  });

  it('continues on the CPU backend when no new device can be had, without losing the step in flight', async () => {
    let calls = 0;
    const requestDevice = async () => {
      if (++calls > 1) throw new Error('no more devices');
      return (await requestGpuDevice()).device;
    };
    const d = await createDecoder({ weights: TAEF2_SAFETENSORS, backend: 'webgpu', precision: 'f32', requestDevice });
    await d.decode(latent);
    const changes: BackendChange[] = [];
    d.onBackendChange((c) => changes.push(c));
    // Asked for before the loss, so it is in flight however fast this machine's GPU is.
    const inFlight = d.decode(latent);
    d.device!.destroy();
    const image = await inFlight;
    const cpu = (await hasNative()) ? 'native' : 'wasm';
    expect(changes.map((c) => c.to)).toEqual([cpu]);
    expect(d.backend).toBe(cpu);
    expect(d.backendReason).toMatch(/lost/);
    expect(maxLevelDiff(image.data, toRgb8(g.image.data, 56 * 40))).toBeLessThanOrEqual(1);
    d.destroy();
  });
});
