// The TAEHV op list (src/model/videoGraph.ts) against upstream's goldens through the CPU
// reference, the frame rules, and chunked decodes equal to whole ones.
import { describe, expect, it } from 'vitest';
import { frameRule, FrameSelector, outputFrameCount } from '../src/model/videoFrames.js';
import { videoStages } from '../src/model/videoGraph.js';
import { VIDEO_MODELS } from '../src/model/videoRegistry.js';
import { maxAbsDiff, type Map3 } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON } from './support/shared.js';
import { goldenGraph, goldenLatentFrame, loadVideoGolden, VIDEO_GOLDENS, type VideoGolden } from './support/videoGolden.js';
import { referenceVideoDecode } from './support/videoReference.js';

/** A golden's latent -> frames `[C,h,w]`. */
function latentFrames(g: VideoGolden): Map3[] {
  const [, c, t, h, w] = g.latent.shape as [number, number, number, number, number];
  return Array.from({ length: t }, (_, f) => ({ c, h, w, data: goldenLatentFrame(g, f).data }));
}

const clamp01 = (f: Map3) => f.data.map((v) => Math.min(1, Math.max(0, v)));

describe.skipIf(!HAS_SHARED)('TAEHV goldens through the CPU reference', () => {
  for (const name of VIDEO_GOLDENS) {
    it(name, () => {
      const g = loadVideoGolden(name);
      const graph = goldenGraph(g);
      const latents = latentFrames(g);
      const { frames } = referenceVideoDecode(graph, latents);
      const spec = VIDEO_MODELS[g.model];
      const rule = frameRule(spec.frameRule, graph.timeUpscale, latents.length);
      const selector = new FrameSelector<Map3>(rule, () => ({ ...frames[0]!, data: new Float32Array(frames[0]!.data.length) }));
      const out = [...selector.push(frames), ...selector.finish()];
      const [T, , H, W] = g.image.shape as [number, number, number, number];
      expect(out.length).toBe(T);
      expect(outputFrameCount(rule, latents.length, graph.timeUpscale)).toBe(T);
      expect([out[0]!.h, out[0]!.w]).toEqual([H, W]);
      const per = 3 * H * W;
      const diffs = out.map((f, i) => maxAbsDiff(clamp01(f), g.image.data.subarray(i * per, (i + 1) * per)));
      expect(Math.max(...diffs)).toBeLessThan(1e-4);
    });
  }

  it('chunked (1 and 2 latent frames, states carried) equals whole', () => {
    const g = loadVideoGolden('taew2_2_super_rand_t2');
    const graph = goldenGraph(g);
    const latents = latentFrames(g);
    const whole = referenceVideoDecode(graph, latents).frames;
    let states: Map3[] = [];
    const chunked: Map3[] = [];
    for (const f of latents) {
      const r = referenceVideoDecode(graph, [f], states);
      chunked.push(...r.frames);
      states = r.states;
    }
    expect(chunked.length).toBe(whole.length);
    expect(Math.max(...chunked.map((f, i) => maxAbsDiff(f.data, whole[i]!.data)))).toBeLessThan(1e-5);
  });

  it('stages: cut before every upsample and inner pixel shuffle; the output pixel shuffle ends the last stage', () => {
    for (const name of ['taew2_2_rand_t2', 'taew2_2_super_rand_t2', 'taeltx_2_rand_t2']) {
      const graph = goldenGraph(loadVideoGolden(name));
      const stages = videoStages(graph);
      const last = stages.at(-1)!;
      expect(last.ops.at(-1)).toMatchObject({ kind: 'pixelShuffle', out: graph.output });
      expect(last.ops.length).toBeGreaterThan(1);
      for (const s of stages.slice(1)) expect(['upsample', 'pixelShuffle']).toContain(s.ops[0]!.kind);
    }
  });
});
describe.skipIf(HAS_SHARED)('TAEHV goldens', () => it.skip(NO_SHARED_REASON, () => undefined));
