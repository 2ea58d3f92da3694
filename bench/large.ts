// Big images on the CPU backends (issue 10): the astronaut latent tiled to 128x128 (1024x1024
// out) and 256x256 (2048x2048), decoded on native onnxruntime and on WASM, banded (the default
// caps) and, where it fits, whole; each run in a process of its own, so its peak RSS is its own.
// Banded and whole outputs are compared.   node dist/bench/large.js [sizes=128,256]
//   child: node dist/bench/large.js --run <native|wasm> <size> <maxBufferBytes|default> <out.f32>
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';
import { createNativeDecoder } from '../src/fallback/native.js';
import { createWasmDecoder } from '../src/fallback/wasm.js';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { parseWeights } from '../src/weights/load.js';
import { parseSafetensors } from '../src/weights/safetensors.js';
import { benchLatent, maxAbsDiff } from './latents.js';

const WHOLE = 2 ** 40; // a cap no activation reaches: decode whole

if (process.argv[2] === '--run') {
  const [, , , backend, sizeArg, cap, out] = process.argv as [string, string, string, 'native' | 'wasm', string, string, string];
  const size = Number(sizeArg);
  const weights = resolveDecoderWeights(parseWeights(readFileSync(join(PACKAGE_ROOT, 'models/taef2_decoder.pth'))));
  const { data } = benchLatent(parseSafetensors(readFileSync(join(PACKAGE_ROOT, 'examples/astronaut.safetensors'))).tensors.get('latent')!, size);
  const maxBufferBytes = cap === 'default' ? undefined : Number(cap);
  const options = maxBufferBytes === undefined ? {} : { maxBufferBytes };
  const decoder = backend === 'native' ? await createNativeDecoder(weights, options) : await createWasmDecoder(weights, { numThreads: 2, ...options });
  const t = performance.now();
  const raw = await decoder.decodeRaw({ data, shape: [32, size, size] });
  const ms = performance.now() - t;
  writeFileSync(out, new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength));
  console.log(JSON.stringify({ backend, size, cap, ms: Math.round(ms), bands: decoder.lastBandCount, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
  decoder.destroy();
  process.exit(0);
}

const sizes = (process.argv[2] ?? '128,256').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'taesd-large-'));
const script = fileURLToPath(import.meta.url);
const run = (backend: string, size: number, cap: string) => {
  const out = join(dir, `${backend}-${size}-${cap}.f32`);
  try {
    const line = execFileSync(process.execPath, [script, '--run', backend, String(size), cap, out], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 20 }).trim().split('\n').pop()!;
    return { ...JSON.parse(line), out };
  } catch (e) {
    return { backend, size, cap, failed: (e as Error).message.split('\n')[0], out: null };
  }
};
console.log('| image | backend | mode | bands | time | peak RSS | max abs vs whole |\n| --- | --- | --- | --- | --- | --- | --- |');
for (const size of sizes) {
  for (const backend of ['native', 'wasm']) {
    const whole = run(backend, size, String(WHOLE));
    const banded = run(backend, size, 'default');
    let diff = '-';
    if (whole.out && banded.out) {
      diff = maxAbsDiff(new Float32Array(readFileSync(whole.out).buffer), new Float32Array(readFileSync(banded.out).buffer)).toExponential(2);
    }
    for (const [mode, r] of [['whole', whole], ['banded (default cap)', banded]] as const) {
      const px = `${size * 8}x${size * 8}`;
      console.log(r.failed ? `| ${px} | ${backend} | ${mode} | - | failed: ${r.failed} | - | - |` : `| ${px} | ${backend} | ${mode} | ${r.bands} | ${(r.ms / 1000).toFixed(1)} s | ${r.peakRssMiB} MiB | ${mode === 'whole' ? '-' : diff} |`);
    }
  }
}
rmSync(dir, { recursive: true, force: true });
