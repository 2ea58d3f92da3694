// Reading bytes from elsewhere within limits: an HTTP body with a byte cap, and (Node only) a
// regular file with its size and head checked before its body is read.
import { fail, isTaesdError } from './errors.js';
import { importNodeOnly } from './platform.js';

/**
 * The bytes of `response`'s body, read in pieces so that a body over `maxBytes` (declared by
 * `content-length` or only sent) stops at the cap: `tooLarge` is called with the bytes seen so
 * far (or declared) and must throw. The body is cancelled before `tooLarge` is called.
 */
export async function readCappedBody(response: Response, maxBytes: number, tooLarge: (bytes: number) => never): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    tooLarge(declared);
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      tooLarge(total);
    }
    chunks.push(r.value);
  }
  const bytes = new Uint8Array(total);
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0);
  return bytes;
}

export interface FileLimits {
  /** Largest file read; a larger one calls `tooLarge` before anything is read. */
  readonly maxBytes: number;
  readonly tooLarge: (bytes: number) => never;
  /** Bytes read first and shown to `checkHead` (with the file's size) before the rest is read (default 0). */
  readonly headBytes?: number;
  /** Judges the file from its first bytes and its size; throws to refuse it before the body is read. */
  readonly checkHead?: (head: Uint8Array, size: number) => void;
  /** Told the open file's stats (e.g. its mtime), once it is known to be a regular file. */
  readonly onStat?: (stats: Stats) => void;
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
    fail('IO', code === 'ENOENT' ? `${what} not found: ${path}` : `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) fail('IO', `${what} ${path} is ${kindOf(st)}, not a regular file; refused before reading`, { reason: 'NOT_REGULAR_FILE' });
    limits.onStat?.(st);
    if (st.size > limits.maxBytes) limits.tooLarge(st.size);
    let got = 0;
    const fill = async (into: Uint8Array, until: number) => {
      while (got < until) {
        const { bytesRead } = await handle.read(into, got, until - got, got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    };
    // The head alone first: a file its header refuses costs no more memory than its head.
    const head = new Uint8Array(Math.min(limits.headBytes ?? 0, st.size));
    await fill(head, head.length);
    limits.checkHead?.(head.subarray(0, got), st.size);
    // One byte more than the size: a file that grows while read is caught, never read past its cap.
    const bytes = new Uint8Array(st.size + 1);
    bytes.set(head.subarray(0, got));
    await fill(bytes, st.size + 1);
    if (got !== st.size) fail('IO', `${what} ${path} changed size while it was read (${st.size} bytes when opened, ${got > st.size ? 'more' : got} then)`);
    return bytes.subarray(0, got);
  } catch (e) {
    if (isTaesdError(e)) throw e;
    fail('IO', `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e });
  } finally {
    await handle.close();
  }
}
