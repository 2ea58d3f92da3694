// The ComfyUI bridge's Python side (integrations/comfyui) on real parts: its unittest suite, and
// its step messages read back by the package and the CLI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMFY_LATENT_FORMATS, modelForComfyFormat } from '../src/model/comfyFormats.js';
import { packFlux2 } from '../src/model/latent.js';
import { latentFromFile } from '../src/model/latentFile.js';
import { MODEL_IDS } from '../src/model/registry.js';
import { comfyRouteUrl } from '../src/comfyui/client.js';
import { parseStepMessage } from '../src/comfyui/message.js';
import { encodeSafetensors, parseSafetensors } from '../src/weights/safetensors.js';
import { loadGolden, type Golden } from './support/golden.js';
import { makeStepMessage } from './support/comfyServer.js';
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
    for (const [format, id] of Object.entries(COMFY_LATENT_FORMATS)) expect(MODEL_IDS.includes(id as never) || id.startsWith('tae'), format).toBe(true);
    expect(() => modelForComfyFormat('StableAudio1')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
    expect(() => modelForComfyFormat('constructor')).toThrow(expect.objectContaining({ code: 'MODEL_UNKNOWN' }));
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

    it('fails with a typed error when latent_format and the weights disagree, or names no known model', () => {
      const sdxl = message('sdxl', new Float32Array(4 * 8 * 8), [1, 4, 8, 8], 'SDXL');
      const r = cli('decode', sdxl, '--weights', TAEF2_SAFETENSORS, '--out', 'x.png');
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/\[MODEL_MISMATCH\]/);
      const wan = message('wan', new Float32Array(16 * 2 * 4 * 6), [1, 16, 2, 4, 6], 'Wan21');
      const w = cli('decode', wan, '--out', 'w.png');
      expect(w.status).toBe(1);
      expect(w.stderr).toMatch(/\[(MODEL_UNKNOWN|IO|WEIGHTS_\w+)\].*taew2_1/);
    });
  });
});
if (!HAS_SHARED) console.warn(`comfyui.test.ts: ${NO_SHARED_REASON}`);
