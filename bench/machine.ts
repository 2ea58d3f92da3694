// What the benchmark ran on: CPU, cores, memory, the GPU (nvidia-smi, where there is one) and a
// short slug naming the results files (`cpu-2core-avx512`, `h200`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface Machine {
  readonly slug: string;
  readonly cpu: string;
  readonly cores: number;
  /** The widest x86 vector extension the CPU reports (avx512, avx2, ...), or the architecture. */
  readonly vector: string;
  readonly memoryGiB: number;
  /** `NVIDIA H200, driver 550.x, 143771 MiB`, or null without nvidia-smi. */
  readonly gpu: string | null;
  readonly node: string;
  readonly os: string;
}

function vectorExtension(): string {
  try {
    const flags = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(' ') ?? [];
    const widest = ['avx512f', 'avx2', 'avx', 'sse4_2'].find((f) => flags.includes(f));
    return widest === 'avx512f' ? 'avx512' : (widest ?? process.arch);
  } catch {
    return process.arch;
  }
}

function nvidiaGpu(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const [name, driver, memory] = out.trim().split('\n')[0]!.split(', ');
    return name ? `${name}, driver ${driver}, ${memory}` : null;
  } catch {
    return null;
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? process.platform;
  } catch {
    return process.platform;
  }
}

export function describeMachine(slug?: string): Machine {
  const cores = availableParallelism();
  const vector = vectorExtension();
  const gpu = nvidiaGpu();
  // `NVIDIA H200` -> h200; no GPU -> cpu-2core-avx512
  const gpuSlug = gpu?.split(',')[0]!.replace(/^NVIDIA\s+/i, '').split(/\s+/)[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '');
  return {
    slug: slug ?? (gpuSlug || `cpu-${cores}core-${vector}`),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores,
    vector,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    gpu,
    node: process.version,
    os: osName(),
  };
}
