import { readCappedBody } from '../boundedRead.js';
import { fail, TaesdError } from '../errors.js';
import { isBase64 } from '../image/base64.js';
import type { ProgressRecord, ProgressStatus, VideoLayout } from './record.js';
import { videoLayout } from './videoLayout.js';

export interface PolledImage {
  /** Absolute URL of the image file: `latest_image` resolved in the folder of progress.json (after same-origin redirects). */
  readonly url: string;
  /** `latest_image` as written: a plain file name. */
  readonly name: string;
  /** The step it shows (`latest_step`, else the number in its name, else `total_steps` for `_final`). */
  readonly step: number;
  /** A `data:` URL of `image_base64` when the record carries valid base64, else null. */
  readonly dataUrl: string | null;
  /**
   * When the image is a video step's (the record's `video`, checked): an animated PNG to show as
   * is (an <img> plays it) or a sheet of frames to cut out and play; null for a still image (or
   * a malformed layout, reported through onError: the image is still shown whole).
   */
  readonly video: VideoLayout | null;
}

export interface PollOptions {
  /** Time between polls, ms, 50..60000 (default 500, the node README's). */
  readonly intervalMs?: number;
  /** Longest wait after repeated failures, ms (default 10000); waits double per consecutive failure. */
  readonly maxBackoffMs?: number;
  /** Stops polling; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * Each new record, in order; never an older step after a newer one (unless the job went back
   * for RESTART_POLLS polls in a row: a restarted job). Its fields are checked, but
   * `latest_image` is the server's string: show images through `onImage`'s URL.
   */
  readonly onProgress?: (record: ProgressRecord) => void;
  /** Each newer image; never one showing an older step than one already given. */
  readonly onImage?: (image: PolledImage) => void;
  /**
   * What went wrong, for logging: network errors and timeouts, HTTP errors, unparsable or
   * malformed records (the node writes non-atomically), and skipped values (an image name that
   * is not a plain file name, bad base64). Ours are TaesdErrors with code IO and, but for HTTP
   * errors, a `reason` (TIMEOUT, MALFORMED, TOO_LARGE, UNSAFE_NAME, CROSS_ORIGIN, RESTARTED).
   */
  readonly onError?: (error: unknown) => void;
  /** The fetch to use (default: global fetch), e.g. one adding credentials. */
  readonly fetch?: typeof globalThis.fetch;
  /**
   * Each request, headers and body, must finish within this many ms, 100..600000 (default
   * 10000); a slower one is aborted and counts as a network error (onError, backoff).
   */
  readonly requestTimeoutMs?: number;
  /**
   * Reject with IO when a running job's progress.json has not changed (no new step, status or
   * `timestamp`) for this many ms, timed on this poller's clock, so clock skew does not matter.
   * Counts from the first valid record. Default: never. A ProgressWriter refreshes `timestamp`
   * every `heartbeatMs` (default 2 s) while it lives, so a few times that tells a dead writer
   * from a slow step; the ComfyUI node writes only once per step.
   */
  readonly staleAfterMs?: number;
  /**
   * Reject with IO after this many malformed answers with no valid record in between:
   * unparsable JSON, missing or out-of-range fields, an unknown status. 1..1000000 (default 20;
   * a torn read of a non-atomic writer is one).
   */
  readonly maxMalformedPolls?: number;
  /**
   * Largest progress.json read, bytes, 1024..1073741824 (default 67108864, 64 MiB: an
   * `image_base64` of ~48 MB of image, far past a 1024 x 1024 preview's). The body is read in pieces and dropped at the
   * cap; a larger one counts as malformed (onError with IO, `maxMalformedPolls`).
   */
  readonly maxBodyBytes?: number;
}

const STATUSES: readonly ProgressStatus[] = ['starting', 'generating', 'completed', 'error', 'cancelled'];
const MIME = new Map([['jpeg', 'image/jpeg'], ['jpg', 'image/jpeg'], ['png', 'image/png']]);

/**
 * A plain image file name: no separators, `?`, `#`, `%` (`%2e%2e` is `..` to a URL parser) or `:`
 * (a scheme), no control characters, not hidden, ending in .jpeg/.jpg/.png. Resolved against
 * the JSON's URL, it can only name a file in the same folder.
 */
const IMAGE_NAME = /^[^/\\?#%:\x00-\x20\x7f.][^/\\?#%:\x00-\x1f\x7f]{0,250}\.(jpe?g|png)$/i;

/** Records that go back this many polls in a row are believed: the job was restarted. */
const RESTART_POLLS = 3;

const isCount = (v: unknown, max = Number.MAX_SAFE_INTEGER): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;

/** What is wrong with a parsed progress.json, or null when it is a record. */
function problem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'is not a JSON object';
  const r = v as Record<string, unknown>;
  if (!(STATUSES as readonly unknown[]).includes(r.status)) return `has an unknown status ${typeof r.status === 'string' ? JSON.stringify(r.status.slice(0, 40)) : `of type ${Array.isArray(r.status) ? 'array' : typeof r.status}`}`;
  if (!isCount(r.total_steps) || r.total_steps < 1) return 'has no total_steps (a positive integer)';
  const total = r.total_steps;
  if (!isCount(r.current_step, total)) return `has a current_step that is not an integer 0..${total}`;
  if (r.latest_step !== undefined && r.latest_step !== null && !isCount(r.latest_step, total)) return `has a latest_step that is not an integer 0..${total}`;
  if (r.latest_image !== undefined && r.latest_image !== null && typeof r.latest_image !== 'string') return 'has a latest_image that is not a string';
  if (r.timestamp !== undefined && !(typeof r.timestamp === 'number' && Number.isFinite(r.timestamp))) return 'has a timestamp that is not a finite number';
  return null;
}

/** The step an image shows: `latest_step`, else the digits of `<prefix>_0015.<ext>`, else `total_steps` (`_final`). */
function imageStep(r: ProgressRecord, name: string): number {
  if (typeof r.latest_step === 'number') return r.latest_step;
  const m = /_(\d+)\.[A-Za-z]+$/.exec(name);
  if (m) return Number(m[1]);
  return /_final\.[A-Za-z]+$/.test(name) ? r.total_steps : r.current_step;
}

type Fetched =
  | { readonly record: ProgressRecord; readonly base: URL | TaesdError }
  | { readonly error: unknown; readonly kind: 'missing' | 'failed' | 'malformed' };

/**
 * The URL images resolve against: where the answer came from, after redirects, when that is on
 * the origin asked; a redirect to another origin gives the error that skips its images.
 */
function imageBase(asked: URL, answeredFrom: string): URL | TaesdError {
  const base = new URL(answeredFrom || asked.href);
  if (base.origin === asked.origin) return base;
  return new TaesdError('IO', `${asked.href} was redirected to another origin (${base.origin}); its images are not followed there: poll the new URL itself`, { reason: 'CROSS_ORIGIN' });
}

/** A body's text as a record, or why it is not one: every failure here is typed and `malformed`. */
function parseRecord(bytes: Uint8Array, url: URL): ProgressRecord | TaesdError {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
    const wrong = problem(parsed);
    return wrong ? new TaesdError('IO', `${url.href} ${wrong}`, { reason: 'MALFORMED' }) : (parsed as ProgressRecord);
  } catch (e) {
    // JSON.parse's SyntaxError, or a RangeError from a value nested past the stack.
    return new TaesdError('IO', `${url.href} is not a JSON record: ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}`, { cause: e, reason: 'MALFORMED' });
  }
}

/**
 * One poll, bounded by `timeoutMs` from request to the last byte of the body, and by
 * `maxBytes`. A 404 (not started yet) is `missing`; network errors, timeouts and other HTTP
 * errors are `failed`; unparsable JSON (a torn write, as the node's non-atomic writes give), a
 * body over `maxBytes` and bad fields are `malformed`.
 */
async function fetchRecord(doFetch: typeof globalThis.fetch, url: URL, signal: AbortSignal | undefined, timeoutMs: number, maxBytes: number): Promise<Fetched> {
  const request = new AbortController();
  const timer = setTimeout(() => request.abort(new TaesdError('IO', `${url.href} did not answer within ${timeoutMs} ms`, { reason: 'TIMEOUT' })), timeoutMs);
  const onAbort = () => request.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const res = await doFetch(url.href, { cache: 'no-store', signal: request.signal });
    if (!res.ok) {
      await res.body?.cancel();
      return { error: new TaesdError('IO', `HTTP ${res.status} for ${url.href}`), kind: res.status === 404 ? 'missing' : 'failed' };
    }
    let bytes: Uint8Array;
    try {
      bytes = await readCappedBody(res, maxBytes, (n) => fail('IO', `${url.href} is over the ${maxBytes}-byte limit (maxBodyBytes) at ${n} bytes; not read further`, { reason: 'TOO_LARGE' }));
    } catch (e) {
      if (e instanceof TaesdError) return { error: e, kind: 'malformed' };
      throw e;
    }
    const record = parseRecord(bytes, url);
    if (record instanceof TaesdError) return { error: record, kind: 'malformed' };
    return { record, base: imageBase(url, res.url) };
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    return { error: request.signal.aborted ? request.signal.reason : e, kind: 'failed' };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function resolveUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base);
  } catch {
    return fail('BAD_OPTION', `pollProgress: ${String(url)} is not an absolute URL (and there is no page to resolve it against)`);
  }
}

function range(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min || v > max) fail('BAD_OPTION', `${name} must be ${min}..${max}, got ${v}`);
  return v;
}

/** The image a record names, or why it is skipped: never throws, so one record cannot end the poll. */
function polledImage(record: ProgressRecord, name: string, base: URL | TaesdError): PolledImage | TaesdError {
  try {
    return checkedImage(record, name, base);
  } catch (e) {
    return new TaesdError('IO', `latest_image ${JSON.stringify(name.slice(0, 100))} could not be resolved (${e instanceof Error ? e.message.slice(0, 200) : String(e)}); skipped`, { cause: e, reason: 'UNSAFE_NAME' });
  }
}

function checkedImage(record: ProgressRecord, name: string, base: URL | TaesdError): PolledImage | TaesdError {
  const ext = IMAGE_NAME.exec(name)?.[1]?.toLowerCase();
  if (ext === undefined) return new TaesdError('IO', `latest_image ${JSON.stringify(name.slice(0, 100))} is not a plain .jpeg/.jpg/.png file name; skipped`, { reason: 'UNSAFE_NAME' });
  if (base instanceof TaesdError) return base;
  const step = imageStep(record, name);
  if (step > record.total_steps) return new TaesdError('IO', `latest_image ${name} claims step ${step} of ${record.total_steps}; skipped`, { reason: 'MALFORMED' });
  const url = new URL(name, base);
  // The URL parser trims and drops characters; the name must survive as the folder's last segment.
  let last: string | null;
  try {
    last = decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  } catch {
    last = null;
  }
  if (last !== name || url.search !== '' || url.hash !== '') return new TaesdError('IO', `latest_image ${JSON.stringify(name.slice(0, 100))} does not resolve to itself in the job's folder; skipped`, { reason: 'UNSAFE_NAME' });
  const b64 = record.image_base64;
  const valid = typeof b64 === 'string' && b64 !== '' && isBase64(b64);
  return { url: url.href, name, step, dataUrl: valid ? `data:${MIME.get(ext)};base64,${b64}` : null, video: videoLayout(record.video) };
}

/**
 * Polls a job's progress.json (written by ProgressWriter or by the ComfyUI node) until its
 * status is `completed`, `error` or `cancelled`, and resolves with that last record (an `error`
 * or `cancelled` run resolves too: check `status`). Fetches with `cache: 'no-store'`, so a static server's
 * one-second `If-Modified-Since` cannot pin a stale record. A missing file (404: the job has
 * not started) and unparsable JSON are retried at the interval; network errors, timeouts and
 * other HTTP errors back off (doubling up to `maxBackoffMs`). Records are checked (status,
 * integer steps within `total_steps`, ...); a malformed one is reported and skipped. Images are
 * handed out only for plain file names, resolved in the JSON's own folder (after redirects
 * within its origin; a redirect to another origin gets no images, reported through onError).
 * Bodies are read up to `maxBodyBytes`. Records older than
 * one already seen (lower step) are ignored, unless RESTART_POLLS in a row say so. Rejects with
 * `signal.reason` when aborted, with IO when the job goes stale (`staleAfterMs`) or stays
 * malformed (`maxMalformedPolls`), or with an error a callback throws.
 */
export async function pollProgress(url: string | URL, options: PollOptions = {}): Promise<ProgressRecord> {
  const jsonUrl = resolveUrl(url);
  const interval = range('intervalMs', options.intervalMs, 500, 50, 60_000);
  const maxBackoff = Math.max(interval, options.maxBackoffMs ?? 10_000);
  const timeout = range('requestTimeoutMs', options.requestTimeoutMs, 10_000, 100, 600_000);
  const staleAfter = options.staleAfterMs === undefined ? Infinity : range('staleAfterMs', options.staleAfterMs, 0, 1, 86_400_000);
  const maxMalformed = range('maxMalformedPolls', options.maxMalformedPolls, 20, 1, 1_000_000);
  const maxBytes = range('maxBodyBytes', options.maxBodyBytes, 64 << 20, 1024, 1 << 30);
  const doFetch = options.fetch ?? globalThis.fetch;
  const { signal } = options;
  let failures = 0;
  let malformed = 0;
  let seen: { step: number; time: number; status: string } | null = null;
  let olderInARow = 0;
  let changedAt = 0;
  let imageStepShown = -1;
  let imageNameShown: string | null = null;

  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const got = await fetchRecord(doFetch, jsonUrl, signal, timeout, maxBytes);
    if ('record' in got) {
      failures = 0;
      malformed = 0;
      const record = got.record;
      const terminal = record.status === 'completed' || record.status === 'error' || record.status === 'cancelled';
      const time = record.timestamp ?? 0;
      const older = seen !== null && !terminal && (record.current_step < seen.step || (record.current_step === seen.step && time < seen.time));
      olderInARow = older ? olderInARow + 1 : 0;
      if (older && olderInARow >= RESTART_POLLS) {
        options.onError?.(new TaesdError('IO', `${jsonUrl.href} went back to step ${record.current_step} for ${RESTART_POLLS} polls: following it as a restarted job`, { reason: 'RESTARTED' }));
        seen = null;
        olderInARow = 0;
        imageStepShown = -1;
        imageNameShown = null;
      }
      if (!older || seen === null) {
        const fresh = seen === null || record.current_step !== seen.step || time !== seen.time || record.status !== seen.status || terminal;
        if (fresh) changedAt = performance.now();
        seen = { step: record.current_step, time, status: record.status };
        const name = record.latest_image;
        const image = fresh && name ? polledImage(record, name, got.base) : null;
        if (image instanceof TaesdError) options.onError?.(image);
        else if (image && (image.step > imageStepShown || (image.step === imageStepShown && name !== imageNameShown && terminal))) {
          imageStepShown = image.step;
          imageNameShown = name;
          if (record.image_base64 && image.dataUrl === null) options.onError?.(new TaesdError('IO', `image_base64 of ${name} is not valid base64; not used`, { reason: 'MALFORMED' }));
          if (record.video !== undefined && image.video === null) options.onError?.(new TaesdError('IO', `the video layout of ${name} is malformed; the image is shown whole`, { reason: 'MALFORMED' }));
          options.onImage?.(image);
        }
        if (fresh) options.onProgress?.(record);
        if (terminal) return record;
      }
    } else {
      options.onError?.(got.error);
      if (got.kind === 'failed') failures++;
      if (got.kind === 'malformed' && ++malformed >= maxMalformed)
        fail('IO', `${jsonUrl.href} was malformed ${malformed} times without a valid record in between; last: ${String((got.error as Error)?.message ?? got.error)}`, { cause: got.error, reason: 'MALFORMED' });
    }
    if (seen !== null && performance.now() - changedAt > staleAfter)
      fail('IO', `${jsonUrl.href} has not changed for ${Math.round(performance.now() - changedAt)} ms while the job is ${seen.status}: its writer seems to have died`, { reason: 'STALE' });
    const wait = failures === 0 ? interval : Math.min(maxBackoff, interval * 2 ** failures);
    await sleep(wait, signal);
  }
}
