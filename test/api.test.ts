// The public API is deliberate: the entries export exactly the names the README lists, and every
// type their signatures use is exported too (no type a consumer can see but not name).
import { readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as image from '../src/image.js';
import * as browser from '../src/index.js';
import * as node from '../src/node.js';
import * as progress from '../src/progress.js';
import { ROOT } from './support/shared.js';

const ERRORS = ['TaesdError', 'isTaesdError'];
const IMAGE = ['contactSheet', 'decodeImage', 'downscale', 'encodeApng', 'encodeImage', 'encodeJpeg', 'encodePng', 'toBase64', 'toDataUrl', ...ERRORS];
const PROGRESS = ['CallbackSink', 'MemorySink', 'OpfsSink', 'ProgressWriter', 'gather', 'pollProgress', 'runProgressJob', 'videoLayout', ...ERRORS];
const BROWSER = [
  ...new Set([...IMAGE, ...PROGRESS, 'MODEL_IDS', 'createDecoder', 'encodeSafetensors', 'getModel', 'latentFromFile', 'loadStateDict',
    'packFlux2', 'parseNpy', 'parseSafetensors', 'unpackFlux2', 'VIDEO_MODEL_IDS', 'VideoDecoder', 'createVideoDecoder', 'getVideoModel',
    'createLinearVideoDecoder', 'cheapFirstPreviewer', 'VIDEO_FAMILIES', 'VIDEO_MODEL_FAMILY', 'videoVaeToModel']),
];
const NAMED_TYPE = ts.SymbolFlags.Interface | ts.SymbolFlags.Class | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;
/** The source of every code entry in package.json's `exports` (`./dist/src/x.js` -> src/x.ts). */
const ENTRIES = Object.values(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).exports as Record<string, string | { default: string }>)
  .flatMap((target) => (typeof target === 'object' ? [target.default.replace(/^\.\/dist\/(src\/.*)\.js$/, '$1.ts')] : []))
  .map((file) => join(ROOT, file));

/** `entry: Type (used by export)` for each type declared in src/ that an entry's exports use but that entry does not export. */
function unexportedTypes(): string[] {
  const { config } = ts.readConfigFile(join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT);
  const program = ts.createProgram(ENTRIES, { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const src = join(ROOT, 'src') + sep;
  const resolve = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const inSrc = (s: ts.Symbol) => (s.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(src));
  const missing = new Set<string>();
  let exported = new Set<ts.Symbol>();
  let seen = new Set<ts.Type>();
  let entry = '';
  const hidden = (p: ts.Symbol) => p.name.startsWith('#') || (p.valueDeclaration !== undefined && (ts.getCombinedModifierFlags(p.valueDeclaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0);
  const visitSignature = (sig: ts.Signature, via: string) => {
    for (const p of sig.parameters) visit(checker.getTypeOfSymbol(p), via);
    visit(sig.getReturnType(), via);
  };
  function visit(type: ts.Type, via: string): void {
    if (seen.has(type) || type.flags & ts.TypeFlags.TypeParameter) return;
    seen.add(type);
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const named = symbol && symbol.flags & NAMED_TYPE ? symbol : undefined;
    if (named && inSrc(named) && !exported.has(named)) missing.add(`${entry}: ${named.name} (used by ${via})`);
    if (named && !inSrc(named)) return; // library and platform types
    if (type.isUnionOrIntersection()) type.types.forEach((t) => visit(t, via));
    type.aliasTypeArguments?.forEach((t) => visit(t, via));
    if (type.flags & ts.TypeFlags.Object) {
      if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) checker.getTypeArguments(type as ts.TypeReference).forEach((t) => visit(t, via));
      for (const p of type.getProperties()) if (!hidden(p)) visit(checker.getTypeOfSymbol(p), via);
      // A private constructor's parameters are not part of the API (the .d.ts drops them).
      const constructors = type.getConstructSignatures().filter((c) => !(c.declaration && ts.getCombinedModifierFlags(c.declaration as ts.Declaration) & ts.ModifierFlags.Private));
      for (const s of [...type.getCallSignatures(), ...constructors]) visitSignature(s, via);
    }
  }
  for (const file of ENTRIES) {
    const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(file)!)!);
    exported = new Set(exports.map(resolve));
    seen = new Set();
    entry = file.slice(src.length);
    for (const e of exports) {
      const s = resolve(e);
      if (s.flags & ts.SymbolFlags.Value) visit(checker.getTypeOfSymbol(s), e.name);
      if (s.flags & ts.SymbolFlags.Type) visit(checker.getDeclaredTypeOfSymbol(s), e.name);
    }
  }
  return [...missing].sort();
}

describe('public API', () => {
  it('taesd-web exports exactly its listed runtime names', () => {
    expect(Object.keys(browser).sort()).toEqual([...BROWSER].sort());
  });

  it('taesd-web/node adds FileSink and readJobSteps', () => {
    expect(Object.keys(node).sort()).toEqual([...BROWSER, 'FileSink', 'readJobSteps'].sort());
  });

  it('taesd-web/image and taesd-web/progress export the codecs and the progress API alone', () => {
    expect(Object.keys(image).sort()).toEqual([...IMAGE].sort());
    expect(Object.keys(progress).sort()).toEqual([...PROGRESS].sort());
    // The same bindings as the main entry's, so instanceof TaesdError holds across entries.
    expect(progress.TaesdError).toBe(browser.TaesdError);
    expect(image.encodePng).toBe(browser.encodePng);
  });

  it('every type a public signature uses is exported', () => {
    expect(ENTRIES.map((f) => f.slice(ROOT.length + 1))).toEqual(expect.arrayContaining(['src/index.ts', 'src/node.ts', 'src/image.ts', 'src/progress.ts']));
    expect(unexportedTypes()).toEqual([]);
  }, 60_000);

  it('ModelSpec shows what a model is, not how it is built', () => {
    expect(Object.keys(browser.getModel('taef2')).sort()).toEqual(['id', 'label', 'latent', 'weightsFile']);
  });

  it('model ids are typed and checked at run time', async () => {
    expect(browser.MODEL_IDS).toEqual(['taesd', 'taesdxl', 'taesd3', 'taef1', 'taef2', 'taesana']);
    expect(() => browser.getModel('taesd4')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
    await expect(browser.createDecoder({ model: 'nope' as never, backend: 'linear' })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
    await expect(browser.createDecoder({ model: 'nope' as never })).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
  });

  it("createDecoder({ model: 'taef2' }) needs no weights: the shipped ones are the default", async () => {
    const decoder = await browser.createDecoder({ model: 'taef2', backend: 'wasm', wasm: { numThreads: 1 } });
    try {
      expect(decoder.model.id).toBe('taef2');
      const image = await decoder.decode({ data: new Float32Array(32 * 4 * 4).fill(0.1), shape: [32, 4, 4] });
      expect([image.width, image.height]).toEqual([32, 32]);
    } finally {
      decoder.destroy();
    }
  }, 60_000);

  it('a model whose weights do not ship says how to get them', async () => {
    const err = await browser.createDecoder({ model: 'taesdxl' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_OPTION' });
    expect((err as Error).message).toContain('npx taesd-web fetch-models taesdxl');
    await expect(browser.createDecoder({})).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
});
