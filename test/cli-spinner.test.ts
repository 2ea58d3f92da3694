// The spinner the CLI shows on a terminal while a decode takes long: real timers, real waits.
import { describe, expect, it } from 'vitest';
import { withSpinner } from '../src/cli/spinner.js';

const after = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('withSpinner', () => {
  it('shows the label and elapsed seconds on one line after a second of work, then erases it', async () => {
    const writes: string[] = [];
    const result = await withSpinner('decoding x.safetensors on webgpu', after(1400, 42), { columns: 80, write: (t) => writes.push(t) });
    expect(result).toBe(42);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes[0]).toMatch(/^\r[|/\\-] decoding x\.safetensors on webgpu 1\.\d s$/);
    expect(writes.join('')).not.toContain('\n');
    expect(writes.at(-1)).toMatch(/^\r {30,}\r$/);
  });

  it('shows nothing for short work, or when stderr is not a terminal', async () => {
    const writes: string[] = [];
    await withSpinner('quick', after(100, 0), { columns: 80, write: (t) => writes.push(t) });
    await withSpinner('not a terminal', after(1300, 0), { columns: null, write: (t) => writes.push(t) });
    expect(writes).toEqual([]);
  });

  it('passes the work\'s failure on, after erasing the line', async () => {
    const writes: string[] = [];
    const failing = after(1200, 0).then(() => { throw new Error('decode failed'); });
    await expect(withSpinner('failing', failing, { columns: 40, write: (t) => writes.push(t) })).rejects.toThrow('decode failed');
    expect(writes.at(-1)).toMatch(/^\r +\r$/);
  });
});
