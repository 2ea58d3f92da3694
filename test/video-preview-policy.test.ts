// The cheap-first video preview policy (src/videoPreview.ts) with real TAEHV decodes (onnxruntime,
// random-weight checkpoints and golden latents from ../shared): what each step is made with for a
// budget nothing fits, one everything fits, and through the ProgressWriter into progress.json; and
// the retry rule against stand-in decoders on a fake clock (performance.now), with no wall time.
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLinearVideoDecoder, type LinearVideoDecoder } from '../src/linearVideo.js';
import { MemorySink } from '../src/progress/memorySink.js';
import { ProgressWriter } from '../src/progress/writer.js';
import { createVideoDecoder, type VideoDecoder } from '../src/videoDecoder.js';
import { cheapFirstPreviewer } from '../src/videoPreview.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { loadVideoGolden, type VideoGolden } from './support/videoGolden.js';

/** Wan 2.1's multiply-adds at each ladder setting ("scale:timeScale"), as a share of its full decode's (bench/videoFlops). */
const WAN_SHARES = new Map([['0.125:0.25', 0.2326], ['0.25:0.25', 0.4201], ['0.5:0.25', 0.5789], ['0.5:0.5', 0.7922], ['1:0.5', 0.8799], ['1:1', 1]]);

describe.skipIf(!HAS_SHARED)('cheap-first video previews', () => {
  let g: VideoGolden;
  let decoder: VideoDecoder;
  beforeAll(async () => {
    g = loadVideoGolden('taew2_1_rand_t3');
    decoder = await createVideoDecoder({ weights: readFileSync(g.weightsFile), model: 'taew2_1' });
  });
  afterAll(() => decoder?.destroy());
  const latent = () => ({ data: g.latent.data, shape: g.latent.shape });
  const linear = () => createLinearVideoDecoder({ model: 'taew2_1' });
  const steps = async (p: ReturnType<typeof cheapFirstPreviewer>, n: number) => {
    const out = [];
    for (let i = 0; i < n; i++) out.push(await p.preview(latent()));
    return out;
  };

  it('no limit: linear first, then the cheapest TAEHV setting, then the full decode', async () => {
    const p = cheapFirstPreviewer({ budgetMs: Infinity, linear: linear(), decoder });
    const got = await steps(p, 4);
    expect(p.history.map((m) => [m.decoder, m.scale, m.time_scale])).toEqual([['linear', 1, 1], ['taew2_1', 1 / 8, 1 / 4], ['taew2_1', 1, 1], ['taew2_1', 1, 1]]);
    expect(got.map((v) => [v.frames.length, v.frames[0]!.width, v.timeStride])).toEqual([[3, 6, 4], [3, 6, 4], [9, 48, 1], [9, 48, 1]]);
    expect(p.history.every((m) => m.decode_ms >= 0)).toBe(true);
  });

  it('a budget nothing fits: TAEHV is tried at its cheapest, then the previews are linear until its retry', async () => {
    const p = cheapFirstPreviewer({ budgetMs: 1e-6, linear: linear(), decoder });
    await steps(p, 4);
    expect(p.history.map((m) => m.decoder)).toEqual(['linear', 'taew2_1', 'linear', 'linear']);
    expect(p.history[1]).toMatchObject({ scale: 1 / 8, time_scale: 1 / 4 });
  });

  it('without a linear preview it stays at the cheapest TAEHV setting when nothing fits', async () => {
    const p = cheapFirstPreviewer({ budgetMs: 1e-6, decoder });
    await steps(p, 2);
    expect(p.history.map((m) => [m.scale, m.time_scale])).toEqual([[1 / 8, 1 / 4], [1 / 8, 1 / 4]]);
  });

  it('the super decoders climb only through scale 1 settings', async () => {
    const sg = loadVideoGolden('taew2_2_super_rand_t2');
    const sd = await createVideoDecoder({ weights: readFileSync(sg.weightsFile), model: 'taew2_2_super' });
    try {
      expect(cheapFirstPreviewer({ budgetMs: 10, decoder: sd }).rungs).toEqual([{ scale: 1, timeScale: 1 / 2 }, { scale: 1, timeScale: 1 }]);
    } finally {
      sd.destroy();
    }
  });

  it('progress.json says what each step was made with', async () => {
    const sink = new MemorySink();
    const writer = new ProgressWriter({ sink, jobId: 'p', totalSteps: 3, format: 'png', videoPreviewer: cheapFirstPreviewer({ budgetMs: Infinity, linear: linear(), decoder }) });
    await writer.start();
    for (let s = 0; s < 3; s++) {
      writer.push({ video: latent() });
      await writer.flush();
    }
    await writer.finish();
    const record = sink.progress()!;
    expect(record.step_videos!.map((v) => [v.step, v.made_with!.decoder, v.made_with!.scale, v.made_with!.time_scale, v.frame_count])).toEqual([
      [0, 'linear', 1, 1, 3], [1, 'taew2_1', 1 / 8, 1 / 4, 3], [2, 'taew2_1', 1, 1, 9],
    ]);
    expect(record.video).toMatchObject({ frame_count: 9, frame_width: 48, frame_height: 32, fps: 16, frame_stride: 1 });
  });

  it('stepShare: a tiny share of a step drops back to linear once a step has been timed', async () => {
    const p = cheapFirstPreviewer({ budgetMs: Infinity, stepShare: 1e-9, linear: linear(), decoder });
    await steps(p, 4);
    expect(p.history.map((m) => m.decoder)).toEqual(['linear', 'taew2_1', 'linear', 'linear']);
    expect(p.currentBudgetMs).toBeLessThan(0.01);
  });

  it("a setting's cost is its multiply-adds from the op list: Wan 2.1's ladder, as the stand-ins below take it", () => {
    const full = decoder.flops(1, 60, 104);
    expect(full).toBeCloseTo(11.07e12 / 21, -10);
    for (const [key, share] of WAN_SHARES) {
      const [scale, timeScale] = key.split(':').map(Number) as [number, number];
      expect(decoder.flops(1, 60, 104, { scale, timeScale }) / full).toBeCloseTo(share, 2);
      expect(decoder.flops(3, 60, 104, { scale, timeScale })).toBeCloseTo(3 * decoder.flops(1, 60, 104, { scale, timeScale }), -6);
    }
  });

  it('refuses a budget that is not positive, or no decoder at all', () => {
    expect(() => cheapFirstPreviewer({ budgetMs: 0, linear: linear() })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => cheapFirstPreviewer({ budgetMs: 5 })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
    expect(() => cheapFirstPreviewer({ budgetMs: 5, stepShare: 1.5, linear: linear() })).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});
/**
 * Stand-ins on a fake clock: a TAEHV decode takes `msAtFull()` x the setting's share of a full
 * decode (its pixels, or Wan 2.1's multiply-adds), a linear one 0.01 ms.
 */
describe('cheap-first retries TAEHV after giving up on it', () => {
  let now = 0;
  afterEach(() => vi.restoreAllMocks());
  const frame = { width: 1, height: 1, data: new Uint8ClampedArray(4) };
  type Setting = { scale: number; timeScale: number };
  const pixelShare = (o: Setting) => o.scale * o.scale * o.timeScale;
  function previewer(msAtFull: () => number, options: { budgetMs: number; stepShare?: number }, share = pixelShare) {
    now = 0;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const decoder = {
      model: { id: 'taew2_1' },
      outputFrames: () => 1,
      flops: (_f: number, _h: number, _w: number, o: Setting) => share(o),
      decodeVideo: async (_: unknown, o: Setting) => { now += msAtFull() * share(o); return [frame]; },
    };
    const linear = { timeStride: 4, decodeVideo: async () => { now += 0.01; return [frame]; } };
    return cheapFirstPreviewer({ ...options, decoder: decoder as unknown as VideoDecoder, linear: linear as unknown as LinearVideoDecoder });
  }
  /** Runs `n` steps, `stepMs` of sampling before each; 'L' for a linear preview, else the TAEHV scale. */
  async function run(p: ReturnType<typeof cheapFirstPreviewer>, n: number, stepMs = 0): Promise<string[]> {
    for (let i = 0; i < n; i++) {
      now += stepMs;
      await p.preview({ data: new Float32Array(16), shape: [16, 1, 1, 1] });
    }
    return p.history.map((m) => (m.decoder === 'linear' ? 'L' : `1/${1 / m.scale}`));
  }
  const L = (n: number) => Array<string>(n).fill('L');

  it('never fits: retried after 4 linear steps, then 8, 16, ... up to 64', async () => {
    const p = previewer(() => 1e6, { budgetMs: 10 });
    const got = await run(p, 2 + 4 + 1 + 8 + 1 + 16 + 1 + 32 + 1 + 64 + 1 + 64 + 1);
    expect(got).toEqual(['L', '1/8', ...L(4), '1/8', ...L(8), '1/8', ...L(16), '1/8', ...L(32), '1/8', ...L(64), '1/8', ...L(64), '1/8']);
  });

  it('a slow first decode (warm-up) is retried, and then climbs; the wait starts over after a fit', async () => {
    let calls = 0, full = 1e6;
    const p = previewer(() => (calls++ === 0 ? 1e6 : full), { budgetMs: 10 });
    // At 8 ms for a full decode, the cheapest takes 0.03 ms and the full one is estimated within 80 % of 10 ms.
    full = 8;
    expect(await run(p, 9)).toEqual(['L', '1/8', ...L(4), '1/8', '1/1', '1/1']);
    // Too slow again, even the cheapest by estimate: linear, and retried after 4 steps (the wait started over).
    full = 1e6;
    expect((await run(p, 7)).slice(9)).toEqual(['1/1', ...L(4), '1/8', 'L']);
  });

  it("estimates follow the decoder's multiply-adds, not its pixels: from the cheapest setting it climbs straight to the one that fits", async () => {
    // A 10 ms full decode: scale 1/8 takes 2.3 ms, 1/4 4.2 ms, 1/2 (timeScale 1/4) 5.8 ms, which fits 80 % of 7.5 ms.
    const p = previewer(() => 10, { budgetMs: 7.5 }, (o) => WAN_SHARES.get(`${o.scale}:${o.timeScale}`)!);
    expect(await run(p, 4)).toEqual(['L', '1/8', '1/2', '1/2']);
    expect(p.history.slice(2).map((m) => m.time_scale)).toEqual([1 / 4, 1 / 4]);
  });

  it('retried as soon as the budget has grown to fit its last time (stepShare of slower steps)', async () => {
    const p = previewer(() => 1000, { budgetMs: Infinity, stepShare: 0.1 });
    // Steps of 10 ms allow 1 ms: the cheapest (1000 / 256 = 3.9 ms) runs over.
    expect(await run(p, 3, 10)).toEqual(['L', '1/8', 'L']);
    // A step of 100 ms allows 10 ms, 80 % of which fits 3.9 ms: TAEHV again on the step after it (and it stays: 4x is 15.6 ms).
    expect((await run(p, 3, 100)).slice(3)).toEqual(['L', '1/8', '1/8']);
  });
});

if (!HAS_SHARED) describe.skip(NO_SHARED_REASON, () => { it('needs ../shared', () => undefined); });
