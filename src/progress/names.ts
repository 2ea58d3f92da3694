import { fail } from '../errors.js';

/** Longest accepted job id, output folder or file-name prefix (characters). */
export const MAX_NAME_LENGTH = 128;

const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * Checks that `value` is one safe path segment: 1..128 characters of `A-Z a-z 0-9 _ . -`, not
 * starting with `.` or `-`. That rules out `..`, absolute paths, `/` and `\`, drive letters
 * (`C:`), NUL and other control characters, hidden files and names a shell reads as options.
 * Anything else throws UNSAFE_PATH naming `what`; nothing has been written by then.
 */
export function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string') fail('UNSAFE_PATH', `${what} must be a string, got ${typeof value}`);
  if (value.length === 0) fail('UNSAFE_PATH', `${what} is empty`);
  if (value.length > MAX_NAME_LENGTH) fail('UNSAFE_PATH', `${what} is ${value.length} characters long; at most ${MAX_NAME_LENGTH}`);
  if (!SAFE_NAME.test(value))
    fail('UNSAFE_PATH', `${what} ${JSON.stringify(value)} is not a plain name (letters, digits, "_", ".", "-"; not starting with "." or "-")`);
  return value;
}
