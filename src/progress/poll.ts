import { fail } from '../errors.js';
import type { ProgressRecord, ProgressStatus } from './record.js';

export interface PolledImage {
  /** Absolute URL of the image file: `latest_image` resolved against the progress.json URL. */
  readonly url: string;
  /** `latest_image` as written. */
  readonly name: string;
  /** The step it shows (`latest_step`, else the number in its name, else `total_steps` for `_final`). */
  readonly step: number;
  /** A `data:` URL of `image_base64` when the record carries it, else null. */
  readonly dataUrl: string | null;
}

export interface PollOptions {
  /** Time between polls, ms, 50..60000 (default 500, the node README's). */
  readonly intervalMs?: number;
  /** Longest wait after repeated failures, ms (default 10000); waits double per consecutive failure. */
  readonly maxBackoffMs?: number;
  /** Stops polling; the promise then rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /** Each new record, in order; never an older step after a newer one. */
  readonly onProgress?: (record: ProgressRecord) => void;
  /** Each newer image; never one showing an older step than one already given. */
  readonly onImage?: (image: PolledImage) => void;
  /** Failed polls, for logging: network errors, HTTP errors, unparsable JSON (the node writes non-atomically). */
  readonly onError?: (error: unknown) => void;
  /** The fetch to use (default: global fetch), e.g. one adding credentials. */
  readonly fetch?: typeof globalThis.fetch;
}

const STATUSES: readonly ProgressStatus[] = ['starting', 'generating', 'completed', 'error'];
const MIME: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png' };

function isRecord(v: unknown): v is ProgressRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.status === 'string' &&
    (STATUSES as readonly string[]).includes(r.status) &&
    typeof r.current_step === 'number' &&
    typeof r.total_steps === 'number' &&
    (r.latest_image === null || r.latest_image === undefined || typeof r.latest_image === 'string')
  );
}

/** The step an image shows: `latest_step`, else the digits of `<prefix>_0015.<ext>`, else `total_steps` (`_final`). */
function imageStep(r: ProgressRecord, name: string): number {
  if (typeof r.latest_step === 'number') return r.latest_step;
  const m = /_(\d+)\.[A-Za-z]+$/.exec(name);
  if (m) return Number(m[1]);
  return /_final\.[A-Za-z]+$/.test(name) ? r.total_steps : r.current_step;
}

type Fetched = { record: ProgressRecord } | { error: unknown; backoff: boolean };

/**
 * One poll. A 404 (not started yet) or unparsable JSON (a torn write, as the node's
 * non-atomic writes give) is retried at the interval; network and other HTTP errors back off.
 */
async function fetchRecord(doFetch: typeof globalThis.fetch, url: URL, signal: AbortSignal | undefined): Promise<Fetched> {
  try {
    const res = await doFetch(url.href, { cache: 'no-store', ...(signal ? { signal } : {}) });
    if (!res.ok) {
      await res.body?.cancel();
      return { error: new Error(`HTTP ${res.status} for ${url.href}`), backoff: res.status !== 404 };
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return { error: e, backoff: false };
    }
    if (!isRecord(parsed)) return { error: new Error(`${url.href} lacks progress.json's fields`), backoff: false };
    return { record: parsed };
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    return { error: e, backoff: true };
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

/**
 * Polls a job's progress.json (written by ProgressWriter or by the ComfyUI node) until its
 * status is `completed` or `error`, and resolves with that last record (an `error` run
 * resolves too: check `status`). Fetches with `cache: 'no-store'`, so a static server's
 * one-second `If-Modified-Since` cannot pin a stale record. A missing file (404: the job has
 * not started) and unparsable JSON are retried at the interval; network and other HTTP errors
 * back off (doubling up to `maxBackoffMs`). Records older than one already seen (lower step)
 * are ignored. Rejects with `signal.reason` when aborted, or with an error a callback throws.
 */
export async function pollProgress(url: string | URL, options: PollOptions = {}): Promise<ProgressRecord> {
  const jsonUrl = resolveUrl(url);
  const interval = options.intervalMs ?? 500;
  if (!Number.isFinite(interval) || interval < 50 || interval > 60_000) fail('BAD_OPTION', `intervalMs must be 50..60000, got ${interval}`);
  const maxBackoff = Math.max(interval, options.maxBackoffMs ?? 10_000);
  const doFetch = options.fetch ?? globalThis.fetch;
  const { signal } = options;
  let failures = 0;
  let seenStep = -1;
  let seenTime = -Infinity;
  let imageStepShown = -1;
  let imageNameShown: string | null = null;

  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const got = await fetchRecord(doFetch, jsonUrl, signal);
    let record: ProgressRecord | null = null;
    if ('record' in got) {
      record = got.record;
      failures = 0;
    } else {
      options.onError?.(got.error);
      if (got.backoff) failures++;
    }

    if (record) {
      const terminal = record.status === 'completed' || record.status === 'error';
      const time = typeof record.timestamp === 'number' ? record.timestamp : 0;
      const stale = !terminal && (record.current_step < seenStep || (record.current_step === seenStep && time < seenTime));
      if (!stale) {
        const fresh = record.current_step !== seenStep || time !== seenTime || terminal;
        seenStep = Math.max(seenStep, record.current_step);
        seenTime = time;
        const name = record.latest_image;
        if (name) {
          const step = imageStep(record, name);
          if (step > imageStepShown || (step === imageStepShown && name !== imageNameShown && terminal)) {
            imageStepShown = step;
            imageNameShown = name;
            const ext = /\.([A-Za-z]+)$/.exec(name)?.[1]?.toLowerCase() ?? '';
            const dataUrl = typeof record.image_base64 === 'string' && record.image_base64 ? `data:${MIME[ext] ?? 'image/jpeg'};base64,${record.image_base64}` : null;
            options.onImage?.({ url: new URL(name, jsonUrl).href, name, step, dataUrl });
          }
        }
        if (fresh) options.onProgress?.(record);
        if (terminal) return record;
      }
    }
    const wait = failures === 0 ? interval : Math.min(maxBackoff, interval * 2 ** failures);
    await sleep(wait, signal);
  }
}
