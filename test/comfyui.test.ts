// The ComfyUI bridge's Python side (integrations/comfyui) on real parts: its unittest suite, and
// its step messages read back by the package and the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMFY_LATENT_FORMATS, comfyProcessOut, modelForComfyFormat } from '../src/model/comfyFormats.js';
import { packFlux2 } from '../src/model/latent.js';
import { latentFromFile } from '../src/model/latentFile.js';
import { MODEL_IDS } from '../src/model/registry.js';
import { comfyRouteUrl } from '../src/comfyui/client.js';
import { parseStepMessage } from '../src/comfyui/message.js';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { loadGolden, maxLevelDiff, toRgb8, type Golden } from './support/golden.js';
import { loadVideoGolden } from './support/videoGolden.js';
import { makeStepMessage, startHubServer } from './support/comfyServer.js';
import { COMFY_DIR, PYTHON, pythonMissing } from './support/python.js';
import { maxAbsDiff } from './support/reference.js';
import { HAS_SHARED, NO_SHARED_REASON, ROOT, TAEF2_SAFETENSORS } from './support/shared.js';

const MISSING = pythonMissing();
if (MISSING) console.warn(`comfyui.test.ts: Python side skipped: ${MISSING}`);
const tmp = mkdtempSync(join(tmpdir(), 'taesd-comfy-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/taesd-web.js'), ...args], { encoding: 'utf8', cwd: tmp });

const message = (name: string, data: Float32Array, shape: number[], latentFormat: string) => makeStepMessage(tmp, name, data, shape, latentFormat);

describe('ComfyUI latent formats', () => {
  it('map every image format to a known model and the video formats to TAEHV ids', () => {
    expect(modelForComfyFormat('Flux2')).toBe('taef2');
    expect(modelForComfyFormat('SDXL')).toBe('taesdxl');
    expect(modelForComfyFormat('Wan22')).toBe('taew2_2');
    for (const [format, { model, processOut }] of Object.entries(COMFY_LATENT_FORMATS)) {
      expect(MODEL_IDS.includes(model as never) || model.startsWith('tae'), format).toBe(true);
      // TAESD decodes the sampler's x0 as it is; the video formats carry ComfyUI's process_out.
      expect(processOut === undefined, format).toBe(MODEL_IDS.includes(model as never));
    }
    expect(() => modelForComfyFormat('StableAudio1')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
    expect(() => modelForComfyFormat('constructor')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
  });
});

describe.skipIf(MISSING !== null || !process.env['COMFYUI_PATH'])('video formats: process_out as ComfyUI computes it (needs COMFYUI_PATH)', () => {
  it('matches comfy.latent_formats process_out for each video format the checkout has', () => {
    const shape = [2, 48, 2, 3, 4];
    const script = `
import json, sys, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(process.env['COMFYUI_PATH'] ?? '')})
import comfy.latent_formats as lf
out = {}
for name in ${JSON.stringify(Object.keys(COMFY_LATENT_FORMATS))}:
    cls = getattr(lf, name, None)
    f = cls() if cls else None
    if f is None or cls.latent_dimensions != 3: continue
    c = f.latent_channels if name != 'LTXAV' else 128
    x = torch.from_numpy(np.random.default_rng(len(name)).standard_normal([2, c, 2, 3, 4]).astype(np.float32))
    out[name] = {'x': x.flatten().tolist(), 'y': f.process_out(x).flatten().tolist(), 'c': c}
print(json.dumps(out))`;
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 26 });
    expect(r.status, r.stderr).toBe(0);
    const cases = JSON.parse(r.stdout) as Record<string, { x: number[]; y: number[]; c: number }>;
    expect(Object.keys(cases).length).toBeGreaterThanOrEqual(3);
    for (const [name, { x, y, c }] of Object.entries(cases)) {
      const got = comfyProcessOut(name, { data: Float32Array.from(x), shape: [shape[0]!, c, 2, 3, 4] });
      expect(maxAbsDiff(got.data as Float32Array, Float32Array.from(y)), name).toBeLessThan(1e-5);
    }
    console.log(`process_out checked against ComfyUI for: ${Object.keys(cases).join(', ')}`);
  });
});

describe('step messages and the route URL', () => {
  const step = (metadata: Record<string, string>, shape = [1, 4, 2, 2]) =>
    encodeSafetensors({ latent: { dtype: 'F32', shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) } }, metadata);
  const ok = { latent_format: 'SDXL', step: '2', total_steps: '10', prompt_id: 'p', node_id: '4', sigma: '0.25' };

  it('parseStepMessage reads the fields and names what is wrong with a bad message', () => {
    expect(parseStepMessage(step(ok))).toMatchObject({ latentFormat: 'SDXL', model: 'taesdxl', step: 2, totalSteps: 10, promptId: 'p', nodeId: '4', sigma: 0.25 });
    expect(parseStepMessage(step({ ...ok, sigma: '' })).sigma).toBeNull();
    const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as { code?: string }).code; } return 'none'; };
    expect(code(() => parseStepMessage(step({ ...ok, step: '10' })))).toBe('LATENT_SHAPE');
    expect(code(() => parseStepMessage(step({ ...ok, step: '-1' })))).toBe('LATENT_SHAPE');
    expect(code(() => parseStepMessage(step({ ...ok, latent_format: 'Nope' })))).toBe('MODEL_UNKNOWN');
    expect(code(() => parseStepMessage(step({ step: '1', total_steps: '2' })))).toBe('LATENT_SHAPE');
    expect(code(() => parseStepMessage(step(ok, [4, 2, 2])))).toBe('LATENT_SHAPE');
    expect(code(() => parseStepMessage(step(ok).subarray(0, 20)))).toBe('WEIGHTS_CORRUPT');
  });

  it('comfyRouteUrl maps a server URL to the route', () => {
    expect(comfyRouteUrl('http://127.0.0.1:8188')).toBe('ws://127.0.0.1:8188/taesd-web/ws');
    expect(comfyRouteUrl('https://host/comfy/', 'a b')).toBe('wss://host/comfy/taesd-web/ws?prompt_id=a+b');
    expect(comfyRouteUrl('ws://h:1/taesd-web/ws')).toBe('ws://h:1/taesd-web/ws');
    expect(() => comfyRouteUrl('ftp://h/')).toThrow(expect.objectContaining({ code: 'BAD_OPTION' }));
  });
});

describe.skipIf(MISSING !== null)('the Python side', () => {
  it('passes its unittest suite (protocol, publisher, websocket hub on 127.0.0.1, wrapper with COMFYUI_PATH)', () => {
    const r = spawnSync(PYTHON, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], { cwd: COMFY_DIR, encoding: 'utf8', timeout: 110_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\nOK/);
    if (/skipped=/.test(r.stderr)) console.warn(`python unittest: ${r.stderr.trim().split('\n').pop()}`);
  });

  describe.skipIf(!HAS_SHARED)('step messages read back', () => {
    let g: Golden;
    let flux2: string;
    beforeAll(() => {
      g = loadGolden('taef2_rand_8x8');
      flux2 = message('flux2', packFlux2(g.latent.data as Float32Array, 8, 8), [1, 128, 4, 4], 'Flux2');
    });

    it('latentFromFile gives the f16 latent in the sampler layout and its latent_format', () => {
      const file = latentFromFile(readFileSync(flux2), 'step.safetensors');
      expect(file.latentFormat).toBe('Flux2');
      expect(file.space).toBe('model');
      expect(file.latent.shape).toEqual([1, 128, 4, 4]);
      const { metadata } = parseSafetensors(readFileSync(flux2));
      expect(metadata).toMatchObject({ latent_format: 'Flux2', step: '3', total_steps: '8', prompt_id: 'test-prompt', node_id: '3', sigma: '0.5', layout: 'BCHW' });
      expect(maxAbsDiff(file.latent.data as Float32Array, packFlux2(g.latent.data as Float32Array, 8, 8))).toBeLessThan(2e-3);
    });

    it('taesd-web decode picks the model from latent_format, without --model, and decodes to the golden', () => {
      const r = cli('decode', flux2, '--weights', TAEF2_SAFETENSORS, '--out', 'out.safetensors');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/taef2 on /);
      const image = parseSafetensors(readFileSync(join(tmp, 'out.safetensors'))).tensors.get('image')!;
      expect(image.shape).toEqual([3, 64, 64]);
      // The latent went through f16: a few thousandths against the f32 reference.
      expect(maxAbsDiff(image.data as Float32Array, g.image.data as Float32Array)).toBeLessThan(2e-2);
    });

    it('names the model it picked from latent_format even without --weights (the default weights of that model)', () => {
      const r = cli('decode', flux2, '--out', 'default.png');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/taef2 on /);
    });

    it('taesd-web progress turns step messages into a job folder, the model from latent_format', () => {
      const steps = [0, 1].map((k) => makeStepMessage(tmp, `job_${k}`, packFlux2(g.latent.data as Float32Array, 8, 8), [1, 128, 4, 4], 'Flux2', k, 2));
      const r = cli('progress', ...steps, '--job-id', 'comfy-job', '--root', 'jobs', '--format', 'png');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/taef2 on /);
      const record = JSON.parse(readFileSync(join(tmp, 'jobs/progress/comfy-job/progress.json'), 'utf8'));
      expect(record).toMatchObject({ status: 'completed', total_steps: 2, latest_image: 'step_final.png' });
    });

    it('a Node viewer (the built taesd-web/comfyui) decodes a step from the Python route to the golden', async () => {
      const entry = join(ROOT, 'dist/src/comfyui/index.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: npm run build`);
      const server = await startHubServer([flux2]);
      try {
        const flags = typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'undefined' ? ['--experimental-websocket', '--no-warnings'] : [];
        const child = spawn(process.execPath, [...flags, join(ROOT, 'test/support/comfyClientChild.mjs'), pathToFileURL(entry).href, `http://127.0.0.1:${server.port}`, TAEF2_SAFETENSORS, 'wasm'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
        expect(code, err).toBe(0);
        const r = JSON.parse(out) as { message: Record<string, unknown>; kind: string; width: number; height: number; rgba: string };
        expect(r.message).toMatchObject({ latentFormat: 'Flux2', model: 'taef2', step: 3, totalSteps: 8, promptId: 'test-prompt' });
        expect([r.kind, r.width, r.height]).toEqual(['image', 64, 64]);
        expect(maxLevelDiff(new Uint8ClampedArray(Buffer.from(r.rgba, 'base64')), toRgb8(g.image.data as Float32Array, 64 * 64))).toBeLessThanOrEqual(2);
      } finally {
        server.close();
      }
    });

    it('taesd-web decode takes a video step message (Wan21) to the golden frames, the TAEHV model from latent_format', () => {
      const v = loadVideoGolden('taew2_1_rand_t3');
      const wan = message('wan', v.latent.data as Float32Array, [...v.latent.shape], 'Wan21');
      const r = cli('decode', wan, '--weights', v.weightsFile, '--out', 'wan_frames.safetensors');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/taew2_1 on /);
      const frames = parseSafetensors(readFileSync(join(tmp, 'wan_frames.safetensors'))).tensors.get('image')!;
      expect(frames.shape).toEqual(v.image.shape);
      // The latent went through f16: a few thousandths against the f32 reference.
      expect(maxAbsDiff(frames.data as Float32Array, v.image.data as Float32Array)).toBeLessThan(2e-2);
    });

    it('fails with a typed error when latent_format and the weights disagree, or names no known model', () => {
      const sdxl = message('sdxl', new Float32Array(4 * 8 * 8), [1, 4, 8, 8], 'SDXL');
      const r = cli('decode', sdxl, '--weights', TAEF2_SAFETENSORS, '--out', 'x.png');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/\[MODEL_MISMATCH\]/);
      const mochi = message('mochi', new Float32Array(12 * 2 * 4 * 4), [1, 12, 2, 4, 4], 'Mochi');
      const m = cli('decode', mochi, '--out', 'm.png');
      expect(m.status).toBe(1);
      expect(m.stderr).toMatch(/\[MODEL_UNKNOWN\].*Mochi/);
    });
  });
});
if (!HAS_SHARED) console.warn(`comfyui.test.ts: ${NO_SHARED_REASON}`);
