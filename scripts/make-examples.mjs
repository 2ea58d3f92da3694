#!/usr/bin/env node
// Makes the example latents that ship in examples/ from ../shared (run after `npm run build`):
//   examples/astronaut.safetensors     the astronaut golden's TAEF2 latent [32,64,64] as f16 (512x512 image)
//   examples/steps/step_NN.safetensors a synthetic 8-step run at 16x16 (128x128 images): seeded
//                                      noise blending, variance-preserving, into the astronaut
//                                      latent area-averaged 4x4; the last step is that latent.
// Rerunning it writes the same bytes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors, parseSafetensors } from '../dist/src/index.js';
import { floatsToHalves } from '../dist/src/weights/half.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.TAESD_SHARED ?? join(root, '../shared');
const STEPS = 8;
const POOL = 4;

const golden = parseSafetensors(readFileSync(join(shared, 'golden/taef2_astronaut.safetensors')), 'taef2_astronaut.safetensors');
const latent = golden.tensors.get('latent');
const [channels, height, width] = latent.shape;

function write(path, data, shape, note) {
  mkdirSync(dirname(path), { recursive: true });
  const tensors = { latent: { dtype: 'F16', shape, data: floatsToHalves(data) } };
  writeFileSync(path, encodeSafetensors(tensors, { model: 'taef2', note }));
}

write(join(root, 'examples/astronaut.safetensors'), latent.data, latent.shape,
  'NASA astronaut portrait (public domain) encoded by the TAEF2 encoder; from ../shared/golden/taef2_astronaut.safetensors');

const h = height / POOL;
const w = width / POOL;
const target = new Float32Array(channels * h * w);
for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
  target[(c * h + Math.floor(y / POOL)) * w + Math.floor(x / POOL)] += latent.data[(c * height + y) * width + x] / (POOL * POOL);
}

// mulberry32 + Box-Muller, seeded, so the committed files can be remade bit for bit.
let seed = 11;
const uniform = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const noise = Float32Array.from(target, () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform()));

for (let i = 0; i < STEPS; i++) {
  const a = i / (STEPS - 1);
  const step = target.map((v, k) => a * v + Math.sqrt(1 - a * a) * noise[k]);
  write(join(root, `examples/steps/step_${String(i).padStart(2, '0')}.safetensors`), step, [channels, h, w],
    `synthetic x0 of step ${i} of ${STEPS}: noise blending into the astronaut latent averaged ${POOL}x${POOL}`);
}
console.log(`wrote examples/astronaut.safetensors and ${STEPS} files in examples/steps/`);
