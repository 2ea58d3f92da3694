// Node only: replacing a file so that readers see the old bytes or the new, whole.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const RENAME_RETRIES = 8;

/** Temp files are named `.taesd-<name>.<12 hex>.tmp`; the name part is cut to this, so any name stays under NAME_MAX (255). */
const TEMP_NAME_PART = 100;

/**
 * Writes `bytes` to `target` atomically: to a temp file in the same folder with a random name,
 * created exclusively (so a file or symlink planted there makes it fail instead of being written
 * through), then renamed over `target` (which replaces a symlink there, never follows it). On
 * Windows, a rename refused because a reader holds the target open is retried (up to ~2.5 s).
 * On failure the temp file is removed and the file system's error is thrown as it is.
 */
export async function replaceFile(target: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dirname(target), `.taesd-${basename(target).slice(0, TEMP_NAME_PART)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, bytes, { flag: 'wx' });
    await renameWithRetry(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

async function renameWithRetry(from: string, to: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await rename(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (i >= RENAME_RETRIES || (code !== 'EPERM' && code !== 'EACCES' && code !== 'EBUSY')) throw e;
      await new Promise((r) => setTimeout(r, 10 * 2 ** i));
    }
  }
}

/** A file-system error as a reader may see it: `no space left on device (ENOSPC)`, without the paths Node puts in the message. */
export function describeFsError(e: unknown): string {
  const { code, message } = e as { code?: unknown; message?: unknown };
  if (typeof message !== 'string') return String(e);
  const text = message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+(?: '[^']*')?(?: -> '[^']*')?$/, '');
  return typeof code === 'string' ? `${text} (${code})` : text;
}
