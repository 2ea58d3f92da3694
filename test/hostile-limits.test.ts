// Two more limits for files from strangers: a JPEG's declared size is checked before it is
// decoded, and a weights file past any decoder's size is refused before it is read.
import { closeSync, mkdtempSync, openSync, ftruncateSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/image/encode.js';
import { encodeJpeg, jpegSize } from '../src/image/jpeg.js';
import { createImage } from '../src/image/image.js';
import { MAX_WEIGHTS_FILE_BYTES, readSource } from '../src/weights/load.js';

/** A JPEG whose frame header claims `width` x `height` (the rest of a real small JPEG follows). */
async function claimingJpeg(width: number, height: number): Promise<Uint8Array> {
  const real = await encodeJpeg(createImage(8, 8, [200, 100, 50, 255]));
  const bytes = real.slice();
  const size = jpegSize(bytes)!;
  expect(size).toEqual({ width: 8, height: 8 });
  // Patch the SOF's height and width fields in place.
  for (let at = 2; at < bytes.length; at++) {
    if (bytes[at] === 0xff && bytes[at + 1]! >= 0xc0 && bytes[at + 1]! <= 0xc2) {
      bytes.set([height >> 8, height & 255, width >> 8, width & 255], at + 5);
      break;
    }
  }
  return bytes;
}

describe('JPEG decode limit', () => {
  it('refuses a JPEG that declares more than 2^24 pixels, before decoding, typed', async () => {
    const bomb = await claimingJpeg(30000, 30000);
    const start = performance.now();
    await expect(decodeImage(bomb)).rejects.toMatchObject({ code: 'IO', message: expect.stringMatching(/30000x30000 is outside the decode limit/) });
    expect(performance.now() - start).toBeLessThan(500);
  });

  it('refuses a JPEG with no frame header', async () => {
    await expect(decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9))).rejects.toMatchObject({ code: 'IO' });
  });

  it('still decodes a JPEG within the limit', async () => {
    expect((await decodeImage(await claimingJpeg(8, 8))).width).toBe(8);
  });
});

describe('weights file size limit', () => {
  it('refuses a file past the limit without reading it', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'taesd-big-')), 'huge_decoder.pth');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, MAX_WEIGHTS_FILE_BYTES + 1); // sparse: no disk, no memory
    closeSync(fd);
    const before = process.memoryUsage().rss;
    await expect(readSource(path)).rejects.toMatchObject({ code: 'WEIGHTS_CORRUPT', message: expect.stringMatching(/over the \d+-byte limit/) });
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  });

  it('stops a download that sends more than the limit, declared or not', async () => {
    const server = createServer((req, res) => {
      if (req.url === '/declared') { res.writeHead(200, { 'content-length': String(MAX_WEIGHTS_FILE_BYTES + 1) }); res.end(); return; }
      res.writeHead(200); // chunked, no length: stream until the client gives up
      const piece = new Uint8Array(1 << 20);
      let sent = 0;
      const pump = () => { while (sent < 300 && res.write(piece)) sent++; if (sent < 300) res.once('drain', pump); else res.end(); };
      res.on('close', () => { sent = 300; });
      pump();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      await expect(readSource(`${base}/declared`)).rejects.toMatchObject({ code: 'WEIGHTS_CORRUPT' });
      await expect(readSource(`${base}/endless`)).rejects.toMatchObject({ code: 'WEIGHTS_CORRUPT' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }, 60_000);
});
