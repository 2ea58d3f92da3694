// A static file server on 127.0.0.1 (random port) for the pollProgress tests, with the caching
// behaviour of Python's http.server: Last-Modified at one-second granularity, and 304 when
// If-Modified-Since is not older than the file's mtime (floored to the second).
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize, sep } from 'node:path';

/** Lets a cross-origin-isolated test page (COEP require-corp) fetch and show the files. */
const CROSS_ORIGIN = { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' };

const TYPES: Record<string, string> = { json: 'application/json', jpeg: 'image/jpeg', jpg: 'image/jpeg', png: 'image/png' };

export interface StaticServer {
  readonly origin: string;
  /** Every request's path and headers, in arrival order, with its time (ms). */
  readonly requests: { path: string; headers: IncomingHttpHeaders; at: number }[];
  close(): Promise<void>;
}

/**
 * Serves files under `dir`. `override(path, n)` may answer a request itself (n = 0-based count
 * of requests so far): return a status and body, or null to serve the file.
 */
export async function serveFolder(
  dir: string,
  override?: (path: string, n: number) => { status: number; body: string } | null,
): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push({ path, headers: req.headers, at: performance.now() });
      const o = override?.(path, requests.length - 1);
      if (o) {
        res.writeHead(o.status, { ...CROSS_ORIGIN, 'content-type': 'application/json' }).end(o.body);
        return;
      }
      const file = normalize(join(dir, path));
      if (!file.startsWith(dir + sep)) return void res.writeHead(403).end();
      try {
        const st = await stat(file);
        const mtime = Math.floor(st.mtimeMs / 1000);
        const ims = req.headers['if-modified-since'];
        if (ims && Date.parse(ims) / 1000 >= mtime) return void res.writeHead(304, CROSS_ORIGIN).end();
        const body = await readFile(file);
        res.writeHead(200, {
          ...CROSS_ORIGIN,
          'content-type': TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream',
          'last-modified': new Date(mtime * 1000).toUTCString(),
          'content-length': body.length,
        });
        res.end(body);
      } catch {
        res.writeHead(404, CROSS_ORIGIN).end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
