// fetch() with an idle timeout and progress, for weights downloads (the loader, `taesd-web fetch-models`).
import { TaesdError } from '../errors.js';

/** A download gives up after this long without a byte: before the response, or between body chunks. */
export const DOWNLOAD_IDLE_TIMEOUT_MS = 30_000;

export interface DownloadOptions {
  /** Give up after this many ms without data (default DOWNLOAD_IDLE_TIMEOUT_MS). */
  readonly idleTimeoutMs?: number;
  /** Called per body chunk with the bytes so far and the declared size (null when not declared). */
  readonly onProgress?: (received: number, total: number | null) => void;
}

/**
 * fetch(url), failing with IO (`download of <name> stalled`) when nothing arrives for the idle
 * timeout, before the response or while its body is read; the body returned reports each chunk
 * to `onProgress`. The timer never keeps a Node process alive.
 */
export async function fetchWatched(url: string, name: string, o: DownloadOptions = {}): Promise<Response> {
  const idleMs = o.idleTimeoutMs ?? DOWNLOAD_IDLE_TIMEOUT_MS;
  const stall = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => clearTimeout(timer);
  const arm = () => {
    stop();
    timer = setTimeout(() => stall.abort(new TaesdError('IO', `download of ${name} stalled: no data for ${idleMs / 1000} s`)), idleMs);
    (timer as { unref?: () => void }).unref?.();
  };
  arm();
  let response: Response;
  try {
    response = await fetch(url, { signal: stall.signal });
  } catch (e) {
    stop();
    throw e;
  }
  if (!response.body) {
    stop();
    return response;
  }
  const reader = response.body.getReader();
  const declared = Number(response.headers.get('content-length') ?? 0) || null;
  let received = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const r = await reader.read();
        if (r.done) {
          stop();
          controller.close();
          return;
        }
        arm();
        received += r.value.byteLength;
        o.onProgress?.(received, declared);
        controller.enqueue(r.value);
      } catch (e) {
        stop();
        controller.error(e);
      }
    },
    async cancel(reason) {
      stop();
      stall.abort(); // closes the connection, whatever the server still sends
      await reader.cancel(reason).catch(() => undefined);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
