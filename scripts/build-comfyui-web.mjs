// Bundles taesd-web/comfyui for the ComfyUI frontend extension (integrations/comfyui/web): one ES
// module, integrations/comfyui/web/lib/taesd-web-comfyui.js, that ComfyUI serves beside the
// extension, plus the assets it names (taef2's shipped weights). onnxruntime-web stays out (its
// wasm is 14 MB and its own loader would add .js files that ComfyUI loads as extensions): the
// extension decodes images on WebGPU, or with the linear preview where there is none; video steps,
// which need onnxruntime (TAEHV), fail there with a typed error until it is served.
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
    // Not a library build: that would inline taef2's shipped weights (2.7 MB) as base64.
    assetsInlineLimit: 0,
    rollupOptions: {
      input: join(ROOT, 'src/comfyui/index.ts'),
      preserveEntrySignatures: 'strict',
      external: [/^onnxruntime-(web|node)/, /^webgpu$/, /^node:/],
      // One .js file: ComfyUI loads every .js under WEB_DIRECTORY as an extension.
      output: { format: 'es', codeSplitting: false, entryFileNames: 'taesd-web-comfyui.js', assetFileNames: 'assets/[name]-[hash][extname]' },
    },
  },
});
