// Bundles a TypeScript entry (and the src/ code it imports) into one ES module that plain Node
// runs, for tests that need the real code in a child process: one they can kill, time and
// measure on its own (peak RSS, a small heap). Built by Vite, which the tests already use.
import { basename, join } from 'node:path';
import { build } from 'vite';
import { ROOT } from './shared.js';

/** Builds `entry` (a path relative to the repository) and returns the bundle's path. */
export async function bundleForNode(entry: string): Promise<string> {
  const name = basename(entry, '.ts');
  // Inside node_modules, so the bundle resolves packages (and their wasm files) as src/ does.
  const outDir = join(ROOT, 'node_modules/.cache/taesd-test-bundles', name);
  await build({
    configFile: false,
    logLevel: 'error',
    root: ROOT,
    ssr: { noExternal: true },
    build: {
      ssr: join(ROOT, entry),
      outDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: { output: { format: 'es', entryFileNames: `${name}.mjs` } },
    },
  });
  return join(outDir, `${name}.mjs`);
}
