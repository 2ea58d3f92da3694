// TAEHV on onnxruntime (native and WASM) from the op list: upstream's goldens, chunked equal to
// whole for every chunk size, frames out per chunk, the stream, and bad input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawImage } from '../src/model/rgba.js';
import { createVideoDecoder, type VideoDecoder } from '../src/videoDecoder.js';
import { lowerVideoDecoder, videoSkips } from '../src/model/videoGraph.js';
import { VIDEO_MODELS } from '../src/model/videoRegistry.js';
import { resolveVideoWeights, VIDEO_MAX_ELEMENTS } from '../src/model/videoWeights.js';
import { floatsToHalves, halvesToFloats } from '../src/weights/half.js';
import { parseWeights } from '../src/weights/load.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON, sharedPath } from './support/shared.js';
import { goldenLatentFrame, goldenWeights, loadVideoGolden, VIDEO_GOLDENS, type VideoGolden } from './support/videoGolden.js';
import { referenceVideoDecode } from './support/videoReference.js';

const decoders = new Map<string, Promise<VideoDecoder>>();
function decoderFor(g: VideoGolden, backend: 'native' | 'wasm'): Promise<VideoDecoder> {
  const key = `${g.weightsFile}:${g.model}:${backend}`;
  if (!decoders.has(key)) decoders.set(key, createVideoDecoder({ weights: readFileSync(g.weightsFile), model: g.model, backend }));
  return decoders.get(key)!;
}

const options = (g: VideoGolden) => ({ scale: 2 ** -g.skipUpsamples, timeScale: 2 ** -g.skipTimeUpsamples });
const latentOf = (g: VideoGolden) => ({ data: g.latent.data, shape: g.latent.shape });
const clamp01 = (f: RawImage) => f.data.map((v) => Math.min(1, Math.max(0, v)));
const worst = (a: RawImage[], b: RawImage[]) => Math.max(...a.map((f, i) => maxAbsDiff(f.data, b[i]!.data)));

describe.skipIf(!HAS_SHARED)('TAEHV on onnxruntime', () => {
  for (const backend of ['native', 'wasm'] as const) {
    for (const name of VIDEO_GOLDENS) {
      it(`${backend}: ${name} matches upstream to 2e-3`, async () => {
        const g = loadVideoGolden(name);
        const decoder = await decoderFor(g, backend);
        const frames = await decoder.decodeVideoRaw(latentOf(g), options(g));
        const [T, , H, W] = g.image.shape as [number, number, number, number];
        expect(frames.length).toBe(T);
        expect(decoder.outputFrames(g.latent.shape[2]!, options(g))).toBe(T);
        expect([frames[0]!.height, frames[0]!.width]).toEqual([H, W]);
        const per = 3 * H * W;
        expect(Math.max(...frames.map((f, i) => maxAbsDiff(clamp01(f), g.image.data.subarray(i * per, (i + 1) * per))))).toBeLessThan(2e-3);
      });
    }
    it(`${backend}: chunks of 1 and 2 latent frames equal the whole decode to 1e-5, frames out per chunk`, async () => {
      const g = loadVideoGolden('taeh3_rand_t6');
      const decoder = await decoderFor(g, backend);
      const whole = await decoder.decodeVideoRaw(latentOf(g), { chunk: 6 });
      for (const chunk of [1, 2]) {
        const calls: number[] = [];
        const frames = await decoder.decodeVideoRaw(latentOf(g), { chunk, onFrames: (f, first) => { calls.push(first, f.length); } });
        expect(frames.length).toBe(whole.length);
        expect(worst(frames, whole)).toBeLessThan(1e-5);
        // H3 holds back three latent frames' outputs (its tail drop), so frames leave from the fourth chunk of 1 on.
        expect(calls.length / 2).toBeGreaterThanOrEqual(chunk === 1 ? 4 : 3);
      }
      const auto = await decoder.decodeVideoRaw(latentOf(g));
      expect(worst(auto, whole)).toBeLessThan(1e-5);
    });
  }

  it('stream: one latent frame per push, then flush, equals the whole decode (super decoder)', async () => {
    const g = loadVideoGolden('taew2_2_super_rand_t2');
    const decoder = await decoderFor(g, 'native');
    const whole = await decoder.decodeVideoRaw(latentOf(g));
    const stream = decoder.stream();
    const got: RawImage[] = [];
    for (let f = 0; f < g.latent.shape[2]!; f++) got.push(...(await stream.pushRaw(goldenLatentFrame(g, f))));
    got.push(...stream.flushRaw());
    expect(got.length).toBe(whole.length);
    expect(worst(got, whole)).toBeLessThan(1e-5);
  });

  it("a stream's video keeps the form of its first push: the other push or flushRaw after push is BAD_OPTION and loses nothing; flush or reset starts over", async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'native');
    const whole = await decoder.decodeVideo(latentOf(g));
    const t = g.latent.shape[2]!, frame = (f: number) => goldenLatentFrame(g, f);
    const code = (p: () => unknown) => Promise.resolve().then(p).then(() => 'ok', (e: { code?: string }) => e.code);
    const stream = decoder.stream();
    const got = await stream.push(frame(0));
    expect(await code(() => stream.pushRaw(frame(1)))).toBe('BAD_OPTION');
    expect(await code(() => stream.flushRaw())).toBe('BAD_OPTION');
    for (let f = 1; f < t; f++) got.push(...(await stream.push(frame(f))));
    got.push(...stream.flush());
    expect(got.length).toBe(whole.length);
    // Chunked equals whole to float rounding: a level may flip where a value sits on a rounding edge.
    expect(got.every((f, i) => f.data.every((v, k) => Math.abs(v - whole[i]!.data[k]!) <= 1))).toBe(true);
    // After flush (or reset) the next video may take the other form; flush() converts raw frames.
    expect((await stream.pushRaw(frame(0))).length).toBeGreaterThan(0);
    stream.reset();
    expect((await stream.push(frame(0))).length).toBeGreaterThan(0);
    expect(stream.flush().every((f) => f.data instanceof Uint8ClampedArray)).toBe(true);
  });

  it('float16 and bfloat16 latents (Uint16Array bits) decode as their float32 values', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'native');
    const u32 = new Uint32Array(g.latent.data.slice().buffer);
    const bf16 = Uint16Array.from(u32, (b) => b >>> 16);
    const f16 = floatsToHalves(g.latent.data);
    const shape = [16, 3, 4, 6];
    for (const [bits, dtype, values] of [[f16, 'float16', halvesToFloats(f16)], [bf16, 'bfloat16', new Float32Array(Uint32Array.from(bf16, (b) => b << 16).buffer)]] as const) {
      const want = await decoder.decodeVideoRaw({ data: values, shape });
      const got = await decoder.decodeVideoRaw({ data: bits, shape, dtype });
      expect(worst(got, want)).toBe(0);
    }
  });

  it('bad input gets typed errors', async () => {
    const g = loadVideoGolden('taew2_1_rand_t3');
    const decoder = await decoderFor(g, 'native');
    const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code);
    expect(await code(decoder.decodeVideo({ data: new Float32Array(8 * 3 * 4 * 6), shape: [1, 8, 3, 4, 6] }))).toBe('LATENT_CHANNELS');
    expect(await code(decoder.decodeVideo({ data: new Float32Array(0), shape: [1, 16, 0, 4, 6] }))).toBe('LATENT_SHAPE');
    expect(await code(decoder.decodeVideo({ data: new Float32Array(3 * 16 * 4 * 6), shape: [3, 16, 4, 6] }))).toBe('LATENT_SHAPE');
    expect(await code(decoder.decodeVideo({ data: new Float32Array(16 * 16 * 4 * 6), shape: [16, 16, 4, 6] }))).toBe('LATENT_SHAPE');
    const nan = new Float32Array(16 * 3 * 4 * 6).fill(Number.NaN);
    expect(await code(decoder.decodeVideo({ data: nan, shape: [1, 16, 3, 4, 6] }))).toBe('LATENT_NON_FINITE');
    expect(await code(decoder.decodeVideo(latentOf(g), { timeScale: 1 / 8 }))).toBe('BAD_OPTION');
    expect(await code(createVideoDecoder({ weights: readFileSync(g.weightsFile), model: 'taew2_1', backend: 'native', maxChunkBytes: 1 << 20 }).then((d) => d.decodeVideo({ data: new Float32Array(16 * 24 * 32), shape: [1, 16, 1, 24, 32] })))).toBe('BAD_OPTION');
    // A chunk is checked for the frames it decodes at once: 150 of 200 do not fit 13 MiB at stage 0; 3000 of 3 are 3.
    const small = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: 'taew2_1', backend: 'native', maxChunkBytes: 13 << 20 });
    await expect(small.decodeVideo({ data: new Float32Array(16 * 200 * 4 * 6), shape: [1, 16, 200, 4, 6] }, { chunk: 150 })).rejects.toMatchObject({ code: 'BAD_OPTION', message: expect.stringContaining('chunk 150 cannot fit: 150 latent frames') });
    expect(await small.decodeVideo(latentOf(g), { chunk: 3000 })).toHaveLength(9);
    small.destroy();
    // 16 channels fit taehv, taew2_1, taecvx and taeos1_3: a buffer has no name to tell.
    expect(await code(createVideoDecoder({ weights: readFileSync(g.weightsFile) }))).toBe('MODEL_AMBIGUOUS');
    expect(await code(createVideoDecoder({ weights: readFileSync(g.weightsFile), model: 'taew2_2' }))).toBe('MODEL_MISMATCH');
    const noOut = new Map([...parseWeights(readFileSync(g.weightsFile), 'w', VIDEO_MAX_ELEMENTS)].filter(([k]) => !k.startsWith('decoder.22')));
    expect(await code(createVideoDecoder({ weights: noOut, model: 'taew2_1' }))).toBe('WEIGHTS_MISSING_TENSOR');
    const noBlock = new Map([...parseWeights(readFileSync(g.weightsFile), 'w', VIDEO_MAX_ELEMENTS)].filter(([k]) => !k.startsWith('decoder.9.conv.2')));
    expect(await code(createVideoDecoder({ weights: noBlock, model: 'taew2_1' }))).toBe('WEIGHTS_MISSING_TENSOR');
  });

  it('models are told from shapes and file names; the encoder is dropped', async () => {
    const path = sharedPath('models/test/taew2_1_randw.pth');
    const d = await createVideoDecoder({ weights: path, backend: 'native' });
    expect(d.model.id).toBe('taew2_1');
    expect(d.modelReason).toMatch(/file name/);
    const super2 = await createVideoDecoder({ weights: readFileSync(sharedPath('models/test/taew2_2_super_randw.pth')), backend: 'native' });
    expect(super2.model.id).toBe('taew2_2_super');
    const h3 = await createVideoDecoder({ weights: readFileSync(sharedPath('models/test/taeh3_randw.pth')), backend: 'native' });
    expect(h3.model.id).toBe('taeh3');
    expect(h3.latentSpace).toBe('model');
  });

  it("lightx2v's files: by name (lighttaew2_1, lighttaehy1_5) or, 16 channels, by a dtype other than float16; their latents are VAE space", () => {
    const dict = parseWeights(readFileSync(sharedPath('models/test/taew2_1_randw.pth')), 'w', VIDEO_MAX_ELEMENTS);
    const named = resolveVideoWeights(dict, { sourceName: 'models/vae_approx/lighttaew2_1.safetensors' });
    expect([named.model.id, named.latentSpace]).toEqual(['taew2_1', 'vae']);
    const f32 = new Map([...dict].map(([k, t]) => [k, { ...t, dtype: 'F32' as const }]));
    const byDtype = resolveVideoWeights(f32);
    expect([byDtype.model.id, byDtype.latentSpace]).toEqual(['taew2_1', 'vae']);
    const hy = resolveVideoWeights(parseWeights(readFileSync(sharedPath('models/test/taehv1_5_randw.pth')), 'w', VIDEO_MAX_ELEMENTS), { sourceName: 'lighttaehy1_5.pth' });
    expect([hy.model.id, hy.latentSpace]).toEqual(['taehv1_5', 'vae']);
    expect(resolveVideoWeights(dict, { sourceName: 'taew2_1.pth' }).latentSpace).toBe('model');
  });

  it('native equals the CPU reference where no golden reaches: LTX-2 at timeScale 1/2 and 1/8, scale 1/2', async () => {
    const g = loadVideoGolden('taeltx_2_rand_t2');
    const decoder = await decoderFor(g, 'native');
    const [, c, t, h, w] = g.latent.shape as [number, number, number, number, number];
    const latents = Array.from({ length: t }, (_, f) => ({ c, h, w, data: goldenLatentFrame(g, f).data }));
    for (const [timeScale, frames] of [[1 / 2, 5], [1 / 8, 2]] as const) {
      const graph = lowerVideoDecoder(goldenWeights(g), videoSkips(VIDEO_MODELS.taeltx_2, 1 / 2, timeScale));
      const ref = referenceVideoDecode(graph, latents).frames.slice(graph.timeUpscale - 1);
      const got = await decoder.decodeVideoRaw(latentOf(g), { scale: 1 / 2, timeScale });
      expect(got.length).toBe(frames);
      expect(ref.length).toBe(frames);
      expect(Math.max(...got.map((f, i) => maxAbsDiff(f.data, ref[i]!.data)))).toBeLessThan(1e-4);
    }
  });
});
describe.skipIf(HAS_SHARED)('TAEHV on onnxruntime', () => it.skip(NO_SHARED_REASON, () => undefined));
