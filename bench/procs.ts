// Memory of processes, from Linux's /proc (null elsewhere): what a child or a browser holds; and
// the GPU's memory, from nvidia-smi where there is one.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0; // gone
  }
}

/** `pid` and every process below it. */
function tree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited meanwhile
    }
  }
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i]!) ?? []));
  return all;
}

/**
 * Samples a process every `everyMs` until stopped; `stop()` gives the peak in MiB: the sum of
 * resident memory over the process and its descendants (a browser's processes), or with
 * `highWater` the kernel's own peak (VmHWM) of the one process. Null where /proc is missing.
 */
export function samplePeakMemory(pid: number, options: { readonly tree?: boolean; readonly highWater?: boolean; readonly everyMs?: number } = {}): { stop(): number | null } {
  if (process.platform !== 'linux') return { stop: () => null };
  let peak = 0;
  const sample = () => {
    const pids = options.tree ? tree(pid) : [pid];
    const kib = pids.reduce((sum, p) => sum + statusKiB(p, options.highWater ? 'VmHWM' : 'VmRSS'), 0);
    peak = Math.max(peak, kib);
  };
  sample();
  const timer = setInterval(sample, options.everyMs ?? 250);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peak / 1024;
    },
  };
}

/**
 * The GPU's used memory (nvidia-smi) above what it was at the start, sampled every `everyMs`;
 * `stop()` gives the peak in MiB. Device-wide: it assumes the machine runs nothing else on the GPU.
 */
export function sampleGpuMemory(everyMs = 500): { stop(): Promise<number | null> } {
  const used = () => new Promise<number | null>((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits'], { timeout: 10_000 }, (error, stdout) => {
      const mib = Number(stdout.trim().split('\n')[0]);
      resolve(error || !Number.isFinite(mib) ? null : mib);
    });
  });
  let baseline: number | null = null, peak: number | null = null;
  const ready = used().then((mib) => { baseline = mib; });
  const timer = setInterval(() => void used().then((mib) => { if (mib !== null) peak = Math.max(peak ?? mib, mib); }), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await ready;
      return baseline === null || peak === null ? null : Math.max(0, peak - baseline);
    },
  };
}
