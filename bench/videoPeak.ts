// One TAEHV taew2_1 decode in this process, for its time and the process's peak RSS (VmHWM), as a
// caller would hold the frames: `stream` (one latent frame pushed at a time, frames dropped as they
// come: a writer or player), `rgba` (decodeVideo, all RGBA frames kept) or `raw` (decodeVideoRaw).
// Issue #21's memory goal: a Wan 480x832, 81-frame latent in under 2 GiB on native and WASM.
//   node dist/bench/videoPeak.js <native|wasm|webgpu> <stream|rgba|raw> [--frames 21] [--hw 60,104] [--weights f.pth]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { createVideoDecoder } from '../src/videoDecoder.js';
import { seededLatent } from './latents.js';

const { values: o, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    frames: { type: 'string', default: '21' },
    hw: { type: 'string', default: '60,104' },
    weights: { type: 'string', default: join(PACKAGE_ROOT, '../shared/models/test/taew2_1_randw.pth') },
  },
});
const [backend, hold] = positionals as ['native' | 'wasm' | 'webgpu', 'stream' | 'rgba' | 'raw'];
if (!['native', 'wasm', 'webgpu'].includes(backend) || !['stream', 'rgba', 'raw'].includes(hold)) {
  console.error('usage: node dist/bench/videoPeak.js <native|wasm|webgpu> <stream|rgba|raw> [--frames 21] [--hw 60,104] [--weights f.pth]');
  process.exit(2);
}
const T = Number(o.frames), [H, W] = o.hw!.split(',').map(Number) as [number, number], C = 16;
const mib = (field: 'VmHWM' | 'VmRSS') => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024);

const data = seededLatent(C * T * H * W);
const decoder = await createVideoDecoder({ weights: readFileSync(o.weights!), model: 'taew2_1', backend });
const loaded = mib('VmRSS');
const t0 = performance.now();
let frames = 0;
if (hold === 'stream') {
  const stream = decoder.stream(), plane = H * W;
  for (let t = 0; t < T; t++) {
    // Latent frame t as [1, C, 1, H, W]: NCTHW keeps a frame's planes apart.
    const one = new Float32Array(C * plane);
    for (let c = 0; c < C; c++) one.set(data.subarray((c * T + t) * plane, (c * T + t + 1) * plane), c * plane);
    frames += (await stream.push({ data: one, shape: [1, C, 1, H, W] })).length;
  }
  frames += stream.flush().length;
} else {
  const latent = { data, shape: [1, C, T, H, W] };
  frames = (hold === 'rgba' ? await decoder.decodeVideo(latent) : await decoder.decodeVideoRaw(latent)).length;
}
const ms = performance.now() - t0;
console.log(`${backend} ${hold} [1,${C},${T},${H},${W}]: ${frames} frames ${W * 8}x${H * 8} in ${(ms / 1000).toFixed(1)} s (first decode, sessions made on the way); RSS ${loaded} MiB loaded, peak ${mib('VmHWM')} MiB`);
decoder.destroy();
