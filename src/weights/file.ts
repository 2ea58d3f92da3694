// Node only: reading a weights or latent file from disk with its limits checked up front.
import { fail, isTaesdError } from '../errors.js';
import { importNodeOnly } from '../platform.js';

export interface FileLimits {
  /** Largest file read; a larger one calls `tooLarge` before anything is read. */
  readonly maxBytes: number;
  readonly tooLarge: (bytes: number) => never;
  /** Bytes read first and shown to `checkHead` (with the file's size) before the rest is read. */
  readonly headBytes: number;
  /** Judges the file from its first bytes and its size; throws to refuse it before the body is read. */
  readonly checkHead: (head: Uint8Array, size: number) => void;
}

type Stats = import('node:fs').Stats;

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

/**
 * Reads the regular file at `path` (`what` names it in errors): devices, FIFOs, sockets and
 * directories are refused before any read (opened non-blocking, so a FIFO without a writer cannot
 * hang), as is a file over `maxBytes`; then its head is checked, then the rest is read, never
 * past the size it had when opened. Throws IO when it cannot be read, is not regular, or changes
 * size while read; `tooLarge`'s and `checkHead`'s errors as they are.
 */
export async function readRegularFile(path: string, what: string, limits: FileLimits): Promise<Uint8Array> {
  const fs = await importNodeOnly<typeof import('node:fs/promises')>('node:fs/promises');
  const { constants } = await importNodeOnly<typeof import('node:fs')>('node:fs');
  let handle: import('node:fs/promises').FileHandle;
  try {
    handle = await fs.open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    fail('IO', code === 'ENOENT' ? `${what} not found: ${path}` : `cannot read ${what} ${path}: ${(e as Error).message}`, e);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) fail('IO', `${what} ${path} is ${kindOf(st)}, not a regular file; refused before reading`);
    if (st.size > limits.maxBytes) limits.tooLarge(st.size);
    // One byte more than the size: a file that grows while read is caught, never read past its cap.
    const bytes = new Uint8Array(st.size + 1);
    let got = 0;
    const fill = async (until: number) => {
      while (got < until) {
        const { bytesRead } = await handle.read(bytes, got, until - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    };
    await fill(Math.min(limits.headBytes, st.size));
    limits.checkHead(bytes.subarray(0, got), st.size);
    await fill(st.size + 1);
    if (got !== st.size) fail('IO', `${what} ${path} changed size while it was read (${st.size} bytes when opened, ${got > st.size ? 'more' : got} then)`);
    return bytes.subarray(0, got);
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `cannot read ${what} ${path}: ${(e as Error).message}`, e);
  } finally {
    await handle.close();
  }
}
