// The benchmark table: every backend configuration on the small and the astronaut goldens, each
// in its own process (onnxruntime-web fixes its thread count per process).  npm run bench [-- quick]
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('quick');
const script = fileURLToPath(new URL('./decode.js', import.meta.url));
const configs = ['linear', 'wasm-1', 'wasm-2', 'webgpu-f32', 'webgpu-f16'];
const latents = quick ? ['taef2_rand_8x8'] : ['taef2_rand_8x8', 'taef2_astronaut'];
console.log('| latent | backend | first decode (ms) | median (ms) | note |\n| --- | --- | --- | --- | --- |');
for (const latent of latents) {
  for (const config of configs) {
    try {
      const out = execFileSync(process.execPath, [script, config, latent, latent.includes('astronaut') ? '1' : '5'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      const r = JSON.parse(out.trim().split('\n').pop()!);
      console.log(`| ${r.latent} | ${config} | ${r.firstMs} | ${r.medianMs} | ${r.note} |`);
    } catch (e) {
      console.log(`| ${latent} | ${config} | - | - | failed: ${(e as Error).message.split('\n')[0]} |`);
    }
  }
}
