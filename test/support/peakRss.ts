import { existsSync, readFileSync } from 'node:fs';

/**
 * Peak RSS of this process alone, MiB. Linux's VmHWM belongs to the memory map execve made; the
 * getrusage maximum (process.resourceUsage) starts from the parent's, which fork copied.
 */
export function peakRssMiB(): number {
  const status = existsSync('/proc/self/status') ? readFileSync('/proc/self/status', 'utf8') : '';
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
  return Number(hwm?.[1] ?? process.resourceUsage().maxRSS) / 1024;
}
