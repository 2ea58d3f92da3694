// The shipped real video example (examples/wan.safetensors, from upstream taehv's test_latents_wan.pth):
// its bytes as committed, a decode through the API and through `taesd-web decode --example wan`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVideoDecoder } from '../src/videoDecoder.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { upngFrames } from './support/progressImages.js';
import { HAS_SHARED, ROOT, sharedPath } from './support/shared.js';

const EXAMPLE = join(ROOT, 'examples/wan.safetensors');
const RANDW = sharedPath('models/test/taew2_1_randw.pth');
// The video decode command lands with the taehv branch; until then only the file and the API are checked.
const HAS_VIDEO_CLI = existsSync(join(ROOT, 'src/cli/decodeVideo.ts'));

describe('examples/wan.safetensors', () => {
  it('is a real Wan 2.1 latent [1,16,5,40,64] in bf16, under 512 KB, naming its model, source and licence', () => {
    expect(statSync(EXAMPLE).size).toBeLessThan(512 << 10);
    const { tensors, metadata } = parseSafetensors(readFileSync(EXAMPLE), 'wan.safetensors');
    const latent = tensors.get('latent')!;
    expect(latent.dtype).toBe('BF16');
    expect(latent.shape).toEqual([1, 16, 5, 40, 64]);
    expect(metadata).toMatchObject({ model: 'taew2_1', licence: expect.stringMatching(/^MIT/), source: expect.stringContaining('madebyollin/taehv@1f14a568') });
    // A real latent, not noise: roughly unit variance, its first channel flatter than the rest (as upstream's file).
    const mean = latent.data.reduce((a, b) => a + b, 0) / latent.data.length;
    const std = Math.sqrt(latent.data.reduce((a, b) => a + (b - mean) ** 2, 0) / latent.data.length);
    expect(std).toBeGreaterThan(0.8);
    expect(std).toBeLessThan(1.1);
    expect(existsSync(join(ROOT, 'examples/LICENSE-taehv'))).toBe(true);
  });

  it.skipIf(!HAS_SHARED)('decodes with taew2_1 weights (random here): 5 frames of 256x160 at the preview settings', async () => {
    const { tensors } = parseSafetensors(readFileSync(EXAMPLE), 'wan.safetensors');
    const decoder = await createVideoDecoder({ weights: readFileSync(RANDW), model: 'taew2_1', backend: 'native' });
    try {
      const { shape, data } = tensors.get('latent')!;
      const frames = await decoder.decodeVideo({ shape, data }, { timeScale: 1 / 4, scale: 1 / 2 });
      expect(frames.map((f) => [f.width, f.height])).toEqual(Array(5).fill([256, 160]));
      expect(decoder.outputFrames(5)).toBe(17);
    } finally {
      decoder.destroy();
    }
  }, 120_000);

  it.skipIf(!HAS_SHARED || !HAS_VIDEO_CLI)('`taesd-web decode --example wan` picks the example and taew2_1: an animated PNG', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'taesd-wan-'));
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), 'decode', '--example', 'wan', '--weights', RANDW, '--time-scale', '1/4', '--scale', '1/2', '--out', 'wan.png'], { encoding: 'utf8', cwd: tmp });
    expect(r.stderr).toMatch(/taew2_1/);
    expect(r.status).toBe(0);
    const apng = upngFrames(readFileSync(join(tmp, 'wan.png')));
    expect([apng.width, apng.height, apng.frames.length]).toEqual([256, 160, 5]);
  }, 120_000);
});
