// Debian's python3 with torch and aiohttp runs the ComfyUI bridge's Python side (integrations/comfyui).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './shared.js';

/** The interpreter: TAESD_PYTHON, else Debian's (the python3 first on PATH may be another without torch). */
export const PYTHON = process.env.TAESD_PYTHON ?? '/usr/bin/python3';
export const COMFY_DIR = join(ROOT, 'integrations/comfyui');

/** Why the Python tests cannot run here, or null when PYTHON imports numpy, torch and aiohttp. */
export function pythonMissing(): string | null {
  const r = spawnSync(PYTHON, ['-c', 'import numpy, torch, aiohttp'], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} not found (set TAESD_PYTHON; Debian: apt-get install python3-torch python3-aiohttp python3-numpy)`;
  return r.status === 0 ? null : `${PYTHON} lacks numpy/torch/aiohttp (Debian: apt-get install python3-torch python3-aiohttp python3-numpy): ${r.stderr.trim().split('\n').pop()}`;
}
