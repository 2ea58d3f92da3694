// Issue #19 item 1: several WebGPU decoders created at once in one process (real Dawn). Before
// getGpu() shared one promise, each concurrent first call made its own Dawn instance and the
// process died (SIGABRT/SIGSEGV). `node concurrentGpuChild.mjs <weights> <count>` prints one JSON line.
import { createDecoder } from '../../src/decoder.js';
import { getGpu } from '../../src/gpu/device.js';

const [weights, count] = [process.argv[2]!, Number(process.argv[3] ?? 4)];
const gpus = await Promise.all([getGpu(), getGpu(), getGpu()]);
const decoders = await Promise.all(Array.from({ length: count }, () => createDecoder({ backend: 'webgpu', weights })));
const c = decoders[0]!.model.latent.channels;
const latent = { data: new Float32Array(c * 4 * 5).map((_, i) => Math.sin(i)), shape: [c, 4, 5] };
const images = await Promise.all(decoders.map((d) => d.decodeRaw(latent)));
// Let the garbage collector run while the devices live: the crash came from a collected Dawn instance.
(globalThis as { gc?: () => void }).gc?.();
await new Promise((r) => setTimeout(r, 200));
const again = await Promise.all(decoders.map((d) => d.decodeRaw(latent)));
const same = images.every((im, i) => im.data.length === again[i]!.data.length && im.data.every((v, j) => v === again[i]!.data[j]));
for (const d of decoders) d.destroy();
process.stdout.write(`${JSON.stringify({ sharedGpu: gpus.every((g) => g === gpus[0]), backends: decoders.map((d) => d.backend), sizes: images.map((im) => `${im.width}x${im.height}`), finite: images.every((im) => im.data.every(Number.isFinite)), same })}\n`);
