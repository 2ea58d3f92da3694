// Generated progress.json bodies and answers of a hostile poll server (issue #19, items 3, 4, 10).
import type { ServerResponse } from 'node:http';

/** Valid standard base64 of `bytes` pseudo-random bytes (~4/3 as many characters). */
export function hugeBase64(bytes: number): string {
  const raw = Buffer.alloc(bytes);
  for (let i = 0, x = 1; i < bytes; i++) raw[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return raw.toString('base64');
}

/** A record's text whose `status` is an array nested `depth` deep (JSON.parse takes it; String() of it overflows the stack). */
export function deeplyNestedStatus(depth: number): string {
  return `{"job_id":"j","status":${'['.repeat(depth)}${']'.repeat(depth)},"current_step":1,"total_steps":10}`;
}

/**
 * Answers 200 with a body that never ends (1 MiB pieces of spaces, as fast as the client reads),
 * or (`declared`) one that claims 200 MB in content-length first.
 */
export function endless(res: ServerResponse, declared: boolean): void {
  res.writeHead(200, { 'content-type': 'application/json', ...(declared ? { 'content-length': String(200e6) } : {}) });
  const piece = Buffer.alloc(1 << 20, 0x20);
  let open = true;
  res.on('close', () => (open = false));
  const pump = () => {
    while (open && res.write(piece));
    if (open) res.once('drain', pump);
  };
  pump();
}
