// The ComfyUI bridge's route on a real Python aiohttp server (integrations/comfyui/tests/serve_hub.py),
// publishing step messages made by protocol.encode_latent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMFY_DIR, PYTHON } from './python.js';

/** A step message made by protocol.encode_latent (Python) from float32 data; returns its path. */
export function makeStepMessage(dir: string, name: string, data: Float32Array, shape: readonly number[], latentFormat: string, step = 3, total = 8): string {
  const raw = join(dir, `${name}.f32`);
  writeFileSync(raw, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const out = join(dir, `${name}.safetensors`);
  const r = spawnSync(PYTHON, ['-m', 'tests.make_message', raw, shape.join(','), latentFormat, String(step), String(total), out], { cwd: COMFY_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make_message failed: ${r.stderr}`);
  return out;
}

export interface HubServer { readonly port: number; close(): void }

/** Starts serve_hub.py with the messages (published in turn every 50 ms) and waits for its port. */
export function startHubServer(messages: readonly string[]): Promise<HubServer> {
  const child: ChildProcess = spawn(PYTHON, ['-m', 'tests.serve_hub', ...messages], { cwd: COMFY_DIR, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), close: () => { child.stdin!.end(); child.kill(); } });
    });
    child.on('exit', (code) => reject(new Error(`serve_hub exited ${code}: ${err}`)));
  });
}
