// Bundles taesd-web/comfyui for the ComfyUI frontend extension (integrations/comfyui/web): one ES
// module, integrations/comfyui/web/lib/taesd-web-comfyui.js, that ComfyUI serves beside the
// extension. onnxruntime-web stays out (its wasm is ~20 MB): the extension decodes on WebGPU, or
// with the linear preview where there is none.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  configFile: false,
  logLevel: 'warn',
  build: {
    outDir: join(ROOT, 'integrations/comfyui/web/lib'),
    emptyOutDir: true,
    minify: true,
    lib: { entry: join(ROOT, 'src/comfyui/index.ts'), formats: ['es'], fileName: () => 'taesd-web-comfyui.js' },
    rollupOptions: { external: [/^onnxruntime-(web|node)/, /^webgpu$/, /^node:/] },
  },
});
