// Where the benchmark's files are: ../shared (TAESD_SHARED) in a checkout, or the device kit's
// .device/ folder on a GPU machine (../shared/GPU.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/cli/packageRoot.js';

export interface Assets {
  /** The TAEF2 decoder as safetensors, and as the upstream .pth (for PyTorch). */
  readonly weights: string;
  readonly pth: string;
  /** The 64x64 astronaut latent (and PyTorch's decode of it), a golden file. */
  readonly astronaut: string;
  /** ../shared/tools/torch_time.py, or null when absent. */
  readonly torchTime: string | null;
}

export function findAssets(): Assets {
  const shared = process.env.TAESD_SHARED ?? join(PACKAGE_ROOT, '../shared');
  const kit = join(PACKAGE_ROOT, '.device');
  const layouts = [
    { models: join(shared, 'models'), golden: join(shared, 'golden'), tools: join(shared, 'tools') },
    { models: join(kit, 'data'), golden: join(kit, 'data'), tools: kit },
  ];
  const found = layouts.find((l) => existsSync(join(l.models, 'taef2_decoder.safetensors')) && existsSync(join(l.golden, 'taef2_astronaut.safetensors')));
  if (!found) throw new Error(`benchmark data not found: need ${shared}/models/taef2_decoder.safetensors and golden/taef2_astronaut.safetensors (set TAESD_SHARED), or the device kit's .device/data`);
  const torchTime = join(found.tools, 'torch_time.py');
  return {
    weights: join(found.models, 'taef2_decoder.safetensors'),
    pth: join(found.models, 'taef2_decoder.pth'),
    astronaut: join(found.golden, 'taef2_astronaut.safetensors'),
    torchTime: existsSync(torchTime) ? torchTime : null,
  };
}

/** A raw float32 file (a reference output) as its own Float32Array (a small file's Buffer shares Node's pool). */
export function readFloat32(path: string): Float32Array {
  const bytes = readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}
