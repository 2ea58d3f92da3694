// TAEHV on WebGPU (real Dawn; lavapipe here) from the same op list: upstream's goldens in f32 and
// f16, chunked equal to whole, the stream, and the device-loss rule.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { getGpu, requestGpuDevice } from '../src/gpu/device.js';
import type { RawImage } from '../src/model/rgba.js';
import { createVideoDecoder, type VideoDecoder } from '../src/videoDecoder.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { goldenLatentFrame, loadVideoGolden, type VideoGolden } from './support/videoGolden.js';

const { device } = await requestGpuDevice();
const f16 = device.features.has('shader-f16');
afterAll(() => device.destroy());

const SMALL = ['taew2_1_rand_t3', 'taew2_1_rand_t1', 'taew2_2_rand_t2', 'taew2_2_super_rand_t2', 'taeltx_2_rand_t2'] as const;
const decoders = new Map<string, Promise<VideoDecoder>>();
function decoderFor(g: VideoGolden, precision: 'f32' | 'f16'): Promise<VideoDecoder> {
  const key = `${g.weightsFile}:${g.model}:${precision}`;
  if (!decoders.has(key)) decoders.set(key, createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend: 'webgpu', webgpu: { device, precision } }));
  return decoders.get(key)!;
}
const options = (g: VideoGolden) => ({ scale: 2 ** -g.skipUpsamples, timeScale: 2 ** -g.skipTimeUpsamples });
const latentOf = (g: VideoGolden) => ({ data: g.latent.data, shape: g.latent.shape });
const clamp01 = (f: RawImage) => f.data.map((v) => Math.min(1, Math.max(0, v)));
const worst = (a: RawImage[], b: RawImage[]) => Math.max(...a.map((f, i) => maxAbsDiff(f.data, b[i]!.data)));
const levels = (a: Float32Array) => Uint8Array.from(a, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255));
const maxLevels = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe.skipIf(!HAS_SHARED)('TAEHV on WebGPU', () => {
  for (const name of SMALL) {
    it(`f32: ${name} matches upstream to 2e-3`, async () => {
      const g = loadVideoGolden(name);
      const decoder = await decoderFor(g, 'f32');
      expect(decoder.backend).toBe('webgpu');
      const frames = await decoder.decodeVideoRaw(latentOf(g), options(g));
      const [T, , H, W] = g.image.shape as [number, number, number, number];
      expect(frames.length).toBe(T);
      expect([frames[0]!.height, frames[0]!.width]).toEqual([H, W]);
      const per = 3 * H * W;
      const err = Math.max(...frames.map((f, i) => maxAbsDiff(clamp01(f), g.image.data.subarray(i * per, (i + 1) * per))));
      console.log(`webgpu f32 ${name}: max abs ${err.toExponential(2)}`);
      expect(err).toBeLessThan(2e-3);
    });
  }
});
describe.skipIf(HAS_SHARED)('TAEHV on WebGPU', () => it.skip(NO_SHARED_REASON, () => undefined));

describe.skipIf(!HAS_SHARED)('TAEHV on WebGPU: f16, chunks, limits, device loss', () => {
  for (const name of SMALL) {
    it.skipIf(!f16)(`f16: ${name} within 3 8-bit levels of upstream (needs shader-f16)`, async () => {
      const g = loadVideoGolden(name);
      const frames = await (await decoderFor(g, 'f16')).decodeVideoRaw(latentOf(g), options(g));
      const [, , H, W] = g.image.shape as [number, number, number, number];
      const per = 3 * H * W;
      const err = Math.max(...frames.map((f, i) => maxLevels(levels(f.data), levels(g.image.data.subarray(i * per, (i + 1) * per)))));
      console.log(`webgpu f16 ${name}: max ${err} levels`);
      expect(err).toBeLessThanOrEqual(3);
    }, 400_000); // the first compiles every f16 pipeline (minutes on a loaded lavapipe)
  }

  it('chunks of 1 and 2 latent frames equal the default (whole) decode to 1e-5 (f32), frames out per chunk', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'f32');
    const whole = await decoder.decodeVideoRaw(latentOf(g));
    for (const chunk of [1, 2]) {
      const calls: number[] = [];
      const frames = await decoder.decodeVideoRaw(latentOf(g), { chunk, onFrames: (f, first) => { calls.push(first); } });
      expect(frames.length).toBe(whole.length);
      expect(worst(frames, whole)).toBeLessThan(1e-5);
      expect(calls.length).toBeGreaterThanOrEqual(chunk === 1 ? 3 : 2);
    }
    // The super decoder's depthwise convs read their concat's past half from the carried frame too.
    const s = loadVideoGolden('taew2_2_super_rand_t2');
    const superDecoder = await decoderFor(s, 'f32');
    const superWhole = await superDecoder.decodeVideoRaw(latentOf(s));
    expect(worst(await superDecoder.decodeVideoRaw(latentOf(s), { chunk: 1 }), superWhole)).toBeLessThan(1e-5);
  });

  it("a chunk's readback overlaps the next chunk: chunk 2 is submitted before chunk 1's frames are read, and the frames are the same", async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'f32');
    const whole = await decoder.decodeVideoRaw(latentOf(g));
    type Submitted = { data: Promise<unknown> };
    const runner = (decoder as unknown as { runner: { runner: { runChunk: (...a: unknown[]) => Promise<Submitted> } } }).runner.runner;
    const runChunk = runner.runChunk;
    // Chunk 1's frames are held back until chunk 2 is asked for: a decode that waited for them first would never end.
    let calls = 0, open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    runner.runChunk = async (...a: unknown[]) => {
      const k = calls++;
      if (k === 1) open();
      const r = await runChunk.apply(runner, a);
      return k === 0 ? { ...r, data: gate.then(() => r.data) } : r;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('the decode waited for chunk 1 before submitting chunk 2')), 60_000); });
      const frames = await Promise.race([decoder.decodeVideoRaw(latentOf(g), { chunk: 1 }), timeout]);
      expect(calls).toBe(3);
      expect(worst(frames, whole)).toBeLessThan(1e-5);
    } finally {
      clearTimeout(timer);
      runner.runChunk = runChunk;
    }
  });

  it('a chunk that fails after the one before was submitted: that one still reaches onFrames, then the error', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'f32');
    const runner = (decoder as unknown as { runner: { runner: { runChunk: (...a: unknown[]) => Promise<unknown> } } }).runner.runner;
    const runChunk = runner.runChunk;
    let calls = 0;
    runner.runChunk = (...a: unknown[]) => (calls++ === 1 ? Promise.reject(Object.assign(new Error('chunk 2 refused'), { code: 'GPU_OUT_OF_MEMORY' })) : runChunk.apply(runner, a));
    const seen: number[] = [];
    try {
      const code = await decoder.decodeVideoRaw(latentOf(g), { chunk: 1, onFrames: (f) => { seen.push(f.length); } }).then(() => 'ok', (e: { code?: string }) => e.code);
      expect(code).toBe('GPU_OUT_OF_MEMORY');
    } finally {
      runner.runChunk = runChunk;
    }
    // Wan's first latent frame keeps 1 of its 4 frames.
    expect(seen).toEqual([1]);
  });

  it('decodeVideo makes RGBA on the GPU: the CPU conversion of the raw frames to 1 level (rounding), chunked or whole, H3 trim included', async () => {
    const { rawToRgba } = await import('../src/model/rgba.js');
    for (const [name, chunk] of [['taew2_1_rand_t3', 1], ['taeh3_rand_t6', undefined]] as const) {
      const g = loadVideoGolden(name);
      const decoder = await decoderFor(g, 'f32');
      const raw = await decoder.decodeVideoRaw(latentOf(g), { ...options(g), ...(chunk && { chunk }) });
      const rgba = await decoder.decodeVideo(latentOf(g), { ...options(g), ...(chunk && { chunk }) });
      expect(rgba.length).toBe(raw.length);
      const err = Math.max(...rgba.map((f, i) => maxLevels(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.length), new Uint8Array(rawToRgba(raw[i]!).data.buffer))));
      console.log(`webgpu rgba ${name}: max ${err} levels from the CPU conversion`);
      expect(err).toBeLessThanOrEqual(1);
      expect([rgba[0]!.width, rgba[0]!.height, rgba[0]!.data.length]).toEqual([raw[0]!.width, raw[0]!.height, raw[0]!.width * raw[0]!.height * 4]);
    }
  });

  it("a stream's push makes RGBA on the GPU: pushRaw's frames converted on the CPU to 1 level, one latent frame a push, H3's held window included", async () => {
    const { rawToRgba } = await import('../src/model/rgba.js');
    for (const name of ['taew2_1_rand_t3', 'taeh3_rand_t6'] as const) {
      const g = loadVideoGolden(name);
      const decoder = await decoderFor(g, 'f32');
      const t = g.latent.shape[2]!, frame = (f: number) => goldenLatentFrame(g, f);
      const raws = decoder.stream(options(g)), rgbas = decoder.stream(options(g));
      const raw: RawImage[] = [], rgba: { data: Uint8ClampedArray }[] = [];
      // The runner is asked for RGBA: no raw frame comes back to the CPU.
      const runner = (decoder as unknown as { runner: { runner: { runChunk: (...a: unknown[]) => unknown } } }).runner.runner;
      const asked: unknown[] = [], runChunk = runner.runChunk;
      runner.runChunk = (...a: unknown[]) => { asked.push(a[5]); return runChunk.apply(runner, a); };
      try {
        for (let f = 0; f < t; f++) {
          raw.push(...(await raws.pushRaw(frame(f))));
          rgba.push(...(await rgbas.push(frame(f))));
        }
      } finally {
        runner.runChunk = runChunk;
      }
      raw.push(...raws.flushRaw());
      rgba.push(...rgbas.flush());
      expect(asked.filter((form) => form === 'rgba').length).toBe(t);
      expect(rgba.length).toBe(raw.length);
      expect(rgba.length).toBe((await decoder.decodeVideoRaw(latentOf(g), options(g))).length);
      const err = Math.max(...rgba.map((f, i) => maxLevels(new Uint8Array(f.data.buffer, f.data.byteOffset, f.data.length), new Uint8Array(rawToRgba(raw[i]!).data.buffer))));
      console.log(`webgpu stream rgba ${name}: ${rgba.length} frames, max ${err} levels from pushRaw + the CPU conversion`);
      expect(err).toBeLessThanOrEqual(1);
    }
  });

  it('decodeVideoToTextures leaves frames on the GPU with decodeVideo\'s pixels (chunked, Wan trim, H3 padded window); other backends are BAD_OPTION', async () => {
    /** A texture's RGBA, read back row by row (bytesPerRow padded to 256). */
    const readTexture = async (t: GPUTexture) => {
      const row = Math.ceil((t.width * 4) / 256) * 256;
      const staging = device.createBuffer({ size: row * t.height, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      const encoder = device.createCommandEncoder();
      encoder.copyTextureToBuffer({ texture: t }, { buffer: staging, bytesPerRow: row }, [t.width, t.height]);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const padded = new Uint8Array(staging.getMappedRange());
      const out = new Uint8Array(t.width * t.height * 4);
      for (let y = 0; y < t.height; y++) out.set(padded.subarray(y * row, y * row + t.width * 4), y * t.width * 4);
      staging.destroy();
      return out;
    };
    for (const [name, chunk] of [['taew2_1_rand_t3', 1], ['taeh3_rand_t6', undefined]] as const) {
      const g = loadVideoGolden(name);
      const decoder = await decoderFor(g, 'f32');
      const rgba = await decoder.decodeVideo(latentOf(g), { ...options(g), ...(chunk && { chunk }) });
      const seen: number[] = [];
      const frames = await decoder.decodeVideoToTextures(latentOf(g), { ...options(g), ...(chunk && { chunk }), onFrames: (f, first) => { seen.push(first + f.length); } });
      expect(frames.length).toBe(rgba.length);
      expect(seen.at(-1)).toBe(frames.length);
      let err = 0;
      for (const [i, f] of frames.entries()) {
        expect([f.width, f.height, f.texture.width, f.texture.height, f.texture.format]).toEqual([rgba[i]!.width, rgba[i]!.height, rgba[i]!.width, rgba[i]!.height, 'rgba8unorm']);
        err = Math.max(err, maxLevels(await readTexture(f.texture), new Uint8Array(rgba[i]!.data.buffer, rgba[i]!.data.byteOffset, rgba[i]!.data.length)));
        f.texture.destroy();
      }
      console.log(`webgpu textures ${name}: ${frames.length} frames, max ${err} levels from decodeVideo`);
      expect(err).toBeLessThanOrEqual(1);
    }
    const g = loadVideoGolden('taew2_1_rand_t1');
    const wasm = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend: 'wasm' });
    expect(await wasm.decodeVideoToTextures(latentOf(g)).then(() => 'ok', (e: { code?: string }) => e.code)).toBe('BAD_OPTION');
    wasm.destroy();
  });

  it('a GPU-resident latent (NCTHW f32 GPUBuffer) decodes to the same frames as the CPU one, chunked too; another device\'s buffer is BAD_OPTION', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'f32');
    const data = Float32Array.from(g.latent.data);
    const onGpu = (d: GPUDevice) => {
      const b = d.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      d.queue.writeBuffer(b, 0, data);
      return b;
    };
    const buffer = onGpu(device);
    for (const chunk of [undefined, 1]) {
      const cpu = await decoder.decodeVideoRaw(latentOf(g), { ...(chunk && { chunk }) });
      const gpu = await decoder.decodeVideoRaw({ buffer, shape: g.latent.shape }, { ...(chunk && { chunk }) });
      expect(gpu.length).toBe(cpu.length);
      console.log(`webgpu gpu-resident latent, chunk ${chunk ?? 'default'}: max abs ${worst(gpu, cpu).toExponential(2)} from the CPU latent`);
      expect(worst(gpu, cpu)).toBeLessThan(1e-6);
    }
    const rgba = await decoder.decodeVideo({ buffer, shape: g.latent.shape });
    expect(rgba.length).toBeGreaterThan(0);
    const other = (await requestGpuDevice()).device;
    const code = await decoder.decodeVideoRaw({ buffer: onGpu(other), shape: g.latent.shape }).then(() => 'ok', (e: { code?: string }) => e.code);
    expect(code).toBe('BAD_OPTION');
    expect(await decoder.decodeVideoRaw({ buffer, shape: [1, 16, 9, 4, 4] }).then(() => 'ok', (e: { code?: string }) => e.code)).toBe('LATENT_SHAPE');
    other.destroy();
    buffer.destroy();
  });

  it('Wan 2.1 480x832 under WebGPU default limits (128 MiB bindings): every stage fits in f16 and in f32', async () => {
    const { WebGpuVideoRunner } = await import('../src/gpu/videoRunner.js');
    const { lowerVideoDecoder, videoStages } = await import('../src/model/videoGraph.js');
    const { resolveVideoWeights } = await import('../src/model/videoWeights.js');
    const { parseWeights } = await import('../src/weights/load.js');
    const g = loadVideoGolden('taew2_1_rand_t1');
    const graph = lowerVideoDecoder(resolveVideoWeights(parseWeights(readFileSync(g.weightsFile), 'w', 2 ** 27), { model: 'taew2_1' }));
    const adapter = (await (await getGpu()).requestAdapter())!;
    const small = await adapter.requestDevice();
    expect(small.limits.maxStorageBufferBindingSize).toBe(2 ** 27);
    for (const precision of ['f16', 'f32'] as const) {
      const runner = new WebGpuVideoRunner(small, precision);
      const runs = videoStages(graph).map((s) => runner.framesPerRun(s, 60 << s.input.level, 104 << s.input.level));
      console.log(`webgpu ${precision} frames per run at 60x104, default limits: ${runs.join(', ')}`);
      expect(Math.min(...runs)).toBeGreaterThanOrEqual(1);
    }
    // A 120x208 latent (960x1664) is over the limit in f32: refused, naming it.
    const runner = new WebGpuVideoRunner(small, 'f32');
    expect(() => videoStages(graph).map((s) => runner.framesPerRun(s, 120 << s.input.level, 208 << s.input.level))).toThrow(expect.objectContaining({ code: 'BAD_OPTION', reason: 'DEVICE_LIMIT', message: expect.stringContaining('128 MiB') }));
    small.destroy();
  });

  it('device loss mid-stream: the stream throws DEVICE_LOST; a new decoder streams from fresh state', async () => {
    const g = loadVideoGolden('taew2_1_rand_t1');
    const own = (await requestGpuDevice()).device;
    const lost = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend: 'webgpu', webgpu: { device: own, precision: 'f32' } });
    const stream = lost.stream();
    const first = await stream.pushRaw(latentOf(g));
    own.destroy();
    await own.lost;
    const code = await stream.pushRaw(latentOf(g)).then(() => 'ok', (e: { code?: string }) => e.code);
    expect(code).toBe('DEVICE_LOST');
    expect(first.length).toBeGreaterThan(0);
    const decoder = await decoderFor(g, 'f32');
    const fresh = decoder.stream();
    const again = [...(await fresh.pushRaw(latentOf(g))), ...fresh.flushRaw()];
    const whole = await decoder.decodeVideoRaw(latentOf(g));
    expect(again.length).toBe(whole.length);
    expect(worst(again, whole)).toBeLessThan(1e-5);
  });
});

describe.skipIf(!HAS_SHARED)('TAEHV backend choice', () => {
  for (const name of ['taew2_1_rand_t3', 'taew2_2_super_rand_t2'] as const) {
    it(`tiled conv kernels (the hardware default): ${name} matches upstream to 2e-3 (f32)`, async () => {
      const g = loadVideoGolden(name);
      const decoder = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend: 'webgpu', webgpu: { device, precision: 'f32', convKernel: 'tiled' } });
      const frames = await decoder.decodeVideoRaw(latentOf(g), options(g));
      const [, , H, W] = g.image.shape as [number, number, number, number];
      const per = 3 * H * W;
      const err = Math.max(...frames.map((f, i) => maxAbsDiff(clamp01(f), g.image.data.subarray(i * per, (i + 1) * per))));
      console.log(`webgpu tiled f32 ${name}: max abs ${err.toExponential(2)}`);
      const { WebGpuVideoRunner } = await import('../src/gpu/videoRunner.js');
      const shape = { k: 3, cinBlocks: 64, coutBlocks: 64, upsample: false, relu: true, residual: false, normGroups: 0, precision: 'f32', outputF32: false, zeroVec4s: 128, prevConcat: false } as const;
      expect(new WebGpuVideoRunner(device, 'f32', 'tiled').variant(shape).kernel).toBe('convTiled');
      expect(err).toBeLessThan(2e-3);
      decoder.destroy();
    }, 400_000);
  }

  it("'tune' runs the kernel the tuning store names for a shape, the default where that kernel refuses it", async () => {
    const { WebGpuVideoRunner } = await import('../src/gpu/videoRunner.js');
    const store = { getItem: () => JSON.stringify({ variant: 'tiled-2x4-k4-wg32x4', timings: {} }), setItem: () => undefined };
    const runner = new WebGpuVideoRunner(device, 'f32', 'tune', store);
    const shape = { k: 3, cinBlocks: 64, coutBlocks: 64, upsample: false, relu: true, residual: false, normGroups: 0, precision: 'f32', outputF32: false, zeroVec4s: 128, prevConcat: false } as const;
    await runner.chooseVariant(shape, 64, 16);
    expect(runner.variant(shape).id).toBe('tiled-2x4-k4-wg32x4');
    const odd = { ...shape, cinBlocks: 6 }; // 6 input blocks do not split into chunks of 4
    await runner.chooseVariant(odd, 64, 16);
    expect(runner.variant(odd).id).toBe('direct-8x2');
    await runner.release();
  });

  it("'auto' takes onnxruntime on a CPU-emulated adapter (lavapipe), WebGPU on hardware", async () => {
    const { deviceAdapterInfo, isFallbackAdapter } = await import('../src/gpu/device.js');
    const g = loadVideoGolden('taew2_1_rand_t1');
    const decoder = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model });
    const info = deviceAdapterInfo(device);
    expect(decoder.backend === 'webgpu').toBe(!(info && isFallbackAdapter(info)));
    decoder.destroy();
  });
});
