// The real upstream TAEF2 files in both formats (and the diffusers layout), every source a loader
// takes, and resolveDecoderWeights on damaged state dicts.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveDecoderWeights } from '../src/model/weights.js';
import { loadStateDict, parseWeights, readSource } from '../src/weights/load.js';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { HAS_SHARED, TAEF2_PTH, TAEF2_SAFETENSORS } from './support/shared.js';
import { asHalves, bits, expectSameLayers, PTH, PTH_BYTES, rejected, ST, ST_BYTES, thrown } from './support/weightFiles.js';

const temps: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'taesd-weights-'));
  temps.push(d);
  return d;
};
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe.skipIf(!HAS_SHARED)('real upstream files', () => {
  it('pth and safetensors hold identical tensors (keys, order, shapes, F16, bit-identical values)', () => {
    expect(PTH.size).toBe(79);
    expect([...PTH.keys()]).toEqual([...ST.keys()]);
    for (const [key, a] of PTH) {
      const b = ST.get(key)!;
      expect(a.dtype, key).toBe('F16');
      expect(b.dtype, key).toBe('F16');
      expect(a.shape, key).toEqual(b.shape);
      expect(a.data.length).toBe(a.shape.reduce((x, y) => x * y, 1));
      expect(Buffer.from(bits(a.data).buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(bits(b.data).buffer, b.data.byteOffset, b.data.byteLength)), key).toBe(true);
    }
    expect(PTH.get('1.weight')!.shape).toEqual([64, 32, 3, 3]);
    expect(parseSafetensors(ST_BYTES).metadata).toEqual({ source: 'taef2_decoder.pth' });
  });

  it('both resolve as taef2 decoders and give the same layers', () => {
    const a = resolveDecoderWeights(PTH, { sourceName: 'taef2_decoder.pth' });
    const b = resolveDecoderWeights(ST);
    expect(a.model.id).toBe('taef2');
    expect(b.model.id).toBe('taef2');
    expect(b.modelReason).toMatch(/detected/);
    expectSameLayers(a, b);
  });

  it('reads a buffer with an unaligned byteOffset (copying tensors it cannot view)', () => {
    const shifted = new Uint8Array(ST_BYTES.length + 1);
    shifted.set(ST_BYTES, 1);
    const d = parseSafetensors(shifted.subarray(1)).tensors;
    expect(bits(d.get('19.weight')!.data)).toEqual(bits(ST.get('19.weight')!.data));
  });

  it('a diffusers AutoencoderTiny layout resolves to identical tensors; encoder keys are ignored', () => {
    const file = encodeSafetensors({
      'encoder.layers.0.weight': { dtype: 'F32', shape: [64, 3, 3, 3], data: new Float32Array(64 * 27).fill(0.5) },
      ...asHalves(ST, (k) => k.replace(/^(\d+)\./, (_, n: string) => `decoder.layers.${Number(n) - 1}.`)),
      'encoder.layers.1.bias': { dtype: 'F32', shape: [64], data: new Float32Array(64) },
    });
    const dict = parseWeights(file, 'diffusion_pytorch_model.safetensors');
    expect([...dict.keys()].some((k) => k.startsWith('decoder.layers.0.'))).toBe(true);
    const resolved = resolveDecoderWeights(dict);
    expect(resolved.model.id).toBe('taef2');
    expectSameLayers(resolved, resolveDecoderWeights(ST));
  });

  it('loads from a path, a file: URL, a data: URL, a Uint8Array and an ArrayBuffer', async () => {
    const fromPath = await loadStateDict(TAEF2_SAFETENSORS);
    expect(fromPath.name).toBe(TAEF2_SAFETENSORS);
    expect([...fromPath.dict.keys()]).toEqual([...ST.keys()]);
    const fromUrl = await loadStateDict(pathToFileURL(TAEF2_PTH));
    expect(fromUrl.name).toMatch(/^file:.*taef2_decoder\.pth$/);
    expect(bits(fromUrl.dict.get('3.pool.0.weight')!.data)).toEqual(bits(PTH.get('3.pool.0.weight')!.data));
    expect((await loadStateDict(pathToFileURL(TAEF2_PTH).href)).dict.size).toBe(79);
    expect((await loadStateDict(PTH_BYTES)).name).toBe('buffer');
    expect((await loadStateDict(ST_BYTES.slice().buffer)).dict.size).toBe(79);
    const small = encodeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    const dataUrl = `data:application/octet-stream;base64,${Buffer.from(small).toString('base64')}`;
    const fromData = await loadStateDict(dataUrl);
    expect(fromData.name).toBe('data: URL');
    expect([...fromData.dict.get('x')!.data]).toEqual([1, 2]);
  });

  it('a missing file or a failing URL is IO, naming the path or URL and status', async () => {
    const missing = join(tempDir(), 'nope.safetensors');
    expect((await rejected(readSource(missing), 'IO')).message).toContain(missing);
    expect((await rejected(loadStateDict(pathToFileURL(missing)), 'IO')).message).toContain('nope.safetensors');
    const server = createServer((_, res) => res.writeHead(404, 'Not Found').end('no'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/taef2_decoder.pth`;
      const e = await rejected(loadStateDict(url), 'IO');
      expect(e.message).toContain(url);
      expect(e.message).toContain('404');
    } finally {
      server.close();
    }
  });
});

describe('resolveDecoderWeights on damaged dicts', () => {
  it('a deleted tensor -> WEIGHTS_MISSING_TENSOR naming it', () => {
    const d = new Map(PTH);
    d.delete('4.conv.2.weight');
    expect(thrown(() => resolveDecoderWeights(d), 'WEIGHTS_MISSING_TENSOR').message).toContain('4.conv.2.weight');
  });

  it('a wrong shape -> WEIGHTS_SHAPE naming the tensor and both shapes', () => {
    const d = new Map(PTH);
    d.set('3.pool.1.weight', { dtype: 'F16', shape: [255], data: new Float32Array(255) });
    const { message } = thrown(() => resolveDecoderWeights(d), 'WEIGHTS_SHAPE');
    for (const named of ['3.pool.1.weight', '[255]', '[256]']) expect(message).toContain(named);
  });

  it('a tensor under both its upstream and its diffusers name -> WEIGHTS_CORRUPT naming both', () => {
    const d = new Map(PTH);
    d.set('decoder.layers.3.conv.2.weight', d.get('4.conv.2.weight')!);
    const both = thrown(() => resolveDecoderWeights(d), 'WEIGHTS_CORRUPT', 'MALFORMED').message;
    for (const named of ['4.conv.2.weight', 'decoder.layers.3.conv.2.weight']) expect(both).toContain(named);
    const prefixed = new Map([...PTH].map(([k, t]) => [`decoder.${k}`, t]));
    prefixed.set('vae.decoder.layers.0.weight', PTH.get('1.weight')!);
    const again = thrown(() => resolveDecoderWeights(prefixed), 'WEIGHTS_CORRUPT', 'MALFORMED').message;
    for (const named of ['decoder.1.weight', 'vae.decoder.layers.0.weight']) expect(again).toContain(named);
  });

  it('taef2 weights for model taesd -> MODEL_MISMATCH naming expected and found', () => {
    const e = thrown(() => resolveDecoderWeights(PTH, { model: 'taesd', sourceName: 'taef2_decoder.pth' }), 'MODEL_MISMATCH');
    expect(e.message).toContain('taesd');
    expect(e.message).toContain('expected 1.weight [64,4,3,3]');
    expect(e.message).toContain('found 1.weight [64,32,3,3] with pool branch');
  });
});
