// After tsc: src/ compiles to dist/src/, one folder deeper, so a `new URL('<relative>',
// import.meta.url)` that names a package file outside src/ (models/taef2_decoder.pth) would point
// into dist/ there. This rewrites each such literal in dist/src to the same file, seen from the
// compiled module. Fails when the file does not exist, so a moved asset breaks the build.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');
const distDir = join(root, 'dist/src');
const ASSET_URL = /new URL\((['"])(\.\.?\/[^'"]+)\1, import\.meta\.url\)/g;

let rewritten = 0;
for (const entry of readdirSync(distDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const distFile = join(entry.parentPath, entry.name);
  const srcFile = join(srcDir, relative(distDir, distFile));
  const text = readFileSync(distFile, 'utf8');
  const out = text.replace(ASSET_URL, (literal, quote, path) => {
    const target = resolve(dirname(srcFile), path);
    if (target.startsWith(srcDir + sep)) return literal; // compiled alongside: already right in dist
    if (!existsSync(target) && existsSync(resolve(dirname(distFile), path))) return literal; // rewritten by an earlier run
    if (!existsSync(target)) throw new Error(`${relative(root, srcFile)}: ${path} names ${relative(root, target)}, which does not exist`);
    rewritten++;
    return `new URL(${quote}${relative(dirname(distFile), target).split(sep).join('/')}${quote}, import.meta.url)`;
  });
  if (out !== text) writeFileSync(distFile, out);
}
console.log(`dist-asset-urls: ${rewritten} asset URL(s) in dist/src point at the package's files`);
