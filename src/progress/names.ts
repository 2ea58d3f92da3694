import { fail } from '../errors.js';

/** Longest accepted job id, output folder or file-name prefix (characters). */
export const MAX_NAME_LENGTH = 128;

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** Windows device names, which open the device instead of a file, with or without an extension. */
const WINDOWS_DEVICE = /^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(?:\.|$)/i;

/**
 * Checks that `value` is one safe path segment: 1..128 characters of `A-Z a-z 0-9 _ . -`, not
 * starting with `.` or `-`. That rules out `..`, absolute paths, `/` and `\`, drive letters
 * (`C:`), NUL and other control characters, hidden files and names a shell reads as options,
 * and names Windows cannot hold: device names (`CON`, `nul.txt`, `COM1`, ...) and a trailing `.`.
 * Anything else throws UNSAFE_PATH naming `what`; nothing has been written by then.
 */
export function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string') fail('UNSAFE_PATH', `${what} must be a string, got ${typeof value}`);
  if (value.length === 0) fail('UNSAFE_PATH', `${what} is empty`);
  if (value.length > MAX_NAME_LENGTH) fail('UNSAFE_PATH', `${what} is ${value.length} characters long; at most ${MAX_NAME_LENGTH}`, { reason: 'TOO_LARGE' });
  if (!SAFE_NAME.test(value))
    fail('UNSAFE_PATH', `${what} ${JSON.stringify(value)} is not a plain name (letters, digits, "_", ".", "-"; not starting with "." or "-")`);
  if (WINDOWS_DEVICE.test(value)) fail('UNSAFE_PATH', `${what} ${JSON.stringify(value)} is a Windows device name (CON, PRN, AUX, NUL, COM0-9, LPT0-9)`);
  // Windows drops a trailing dot, so "x." and "x" would be one file there.
  if (value.endsWith('.')) fail('UNSAFE_PATH', `${what} ${JSON.stringify(value)} ends with "."`);
  return value;
}
