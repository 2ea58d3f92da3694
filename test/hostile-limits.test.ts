// Limits for files from strangers: a JPEG's declared size is checked before it is decoded; a
// weights or latent file past its size limit, not a regular file, or whose header does not fit
// its size is refused before its body is read.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, ftruncateSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TaesdErrorCode, TaesdErrorReason } from '../src/errors.js';
import { decodeImage } from '../src/image/encode.js';
import { encodeJpeg, jpegSize } from '../src/image/jpeg.js';
import { createImage } from '../src/image/image.js';
import { readLatentFile } from '../src/cli/latentFile.js';
import { modelFromLatents } from '../src/cli/latentModel.js';
import { loadStateDict, MAX_WEIGHTS_FILE_BYTES, readSource } from '../src/weights/load.js';
import { encodeSafetensors } from '../src/weights/safetensors.js';
import { jpegStart, npyFromHeader } from './support/foreignFiles.js';
import { TAEF2_PTH } from './support/shared.js';

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
    // TOO_LARGE is the header check's, which runs before the decoder is loaded.
    await expect(decodeImage(bomb)).rejects.toMatchObject({ code: 'IO', reason: 'TOO_LARGE', message: expect.stringContaining('30000x30000') });
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
    await expect(readSource(path)).rejects.toThrow(expect.objectContaining({ code: 'WEIGHTS_CORRUPT', reason: 'TOO_LARGE', message: expect.stringContaining(String(MAX_WEIGHTS_FILE_BYTES + 1)) }));
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

describe('issue #19 item 7: weights and latent files are judged before their bodies are read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'taesd-files-'));
  /** A sparse file: `head` written, then `size` bytes in all (no disk, no memory). */
  const sparse = (name: string, head: Uint8Array, size: number): string => {
    const path = join(dir, name);
    writeFileSync(path, head);
    truncateSync(path, size);
    return path;
  };
  /** Runs `read` and checks it fails with `code` and `reason`, its message naming `named`, within 2 s and 64 MiB. */
  async function refused(read: () => Promise<unknown>, code: TaesdErrorCode, reason: TaesdErrorReason, named: string): Promise<void> {
    const before = process.memoryUsage().rss;
    const start = performance.now();
    await expect(read()).rejects.toThrow(expect.objectContaining({ code, reason, message: expect.stringContaining(named) }));
    expect(performance.now() - start).toBeLessThan(2000);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 << 20);
  }

  it.skipIf(!existsSync('/dev/zero'))('/dev/zero (stat size 0) as weights or as a latent, also through a link named .npy', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero.npy'));
    await refused(() => readSource('/dev/zero'), 'IO', 'NOT_REGULAR_FILE', '/dev/zero');
    await refused(() => readLatentFile(join(dir, 'zero.npy')), 'IO', 'NOT_REGULAR_FILE', 'zero.npy');
  });

  it.skipIf(process.platform === 'win32')('a FIFO with no writer does not hang', async () => {
    const fifo = join(dir, 'pipe.safetensors');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    await refused(() => readSource(fifo), 'IO', 'NOT_REGULAR_FILE', fifo);
    await refused(() => readLatentFile(fifo), 'IO', 'NOT_REGULAR_FILE', fifo);
    // The CLI reads a latent's metadata (its model) first: that read must not hang either.
    expect(await modelFromLatents([fifo])).toBeUndefined();
  });

  it('a directory is refused as IO', async () => {
    const folder = join(dir, 'folder.npy');
    mkdirSync(folder);
    await refused(() => readLatentFile(folder), 'IO', 'NOT_REGULAR_FILE', folder);
  });

  it('a sparse 1.5 GiB .npy is refused from its size, a 200 MiB one from its header', async () => {
    const header = npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 4, 20000, 20000), }");
    await refused(() => readLatentFile(sparse('huge.npy', header, 1.5 * 2 ** 30)), 'LATENT_CORRUPT', 'TOO_LARGE', String(1.5 * 2 ** 30));
    await refused(() => readLatentFile(sparse('claims.npy', header, 200 << 20)), 'LATENT_CORRUPT', 'TOO_LARGE', String(4 * 20000 * 20000));
    const small = npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 8, 8), }");
    await refused(() => readLatentFile(sparse('padded.npy', small, 200 << 20)), 'LATENT_CORRUPT', 'BAD_LAYOUT', String(4 * 8 * 8 * 4));
  });

  it('a safetensors file (weights or latent) whose header does not describe its size is refused before its body', async () => {
    const file = encodeSafetensors({ latent: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    await refused(() => readSource(sparse('padded_decoder.safetensors', file, 200 << 20)), 'WEIGHTS_CORRUPT', 'BAD_LAYOUT', 'padded_decoder.safetensors');
    await refused(() => readLatentFile(sparse('padded.safetensors', file, 200 << 20)), 'LATENT_CORRUPT', 'BAD_LAYOUT', 'padded.safetensors');
  });

  it('a JPEG named .pth is named from its first bytes; a .pth named .npy gets a latent code', async () => {
    writeFileSync(join(dir, 'photo_decoder.pth'), jpegStart());
    await refused(() => loadStateDict(join(dir, 'photo_decoder.pth')), 'WEIGHTS_CORRUPT', 'WRONG_FORMAT', 'photo_decoder.pth');
    writeFileSync(join(dir, 'model.npy'), readFileSync(TAEF2_PTH));
    await refused(() => readLatentFile(join(dir, 'model.npy')), 'LATENT_CORRUPT', 'WRONG_FORMAT', 'model.npy');
  });

  it('valid files still read: a latent .npy and the shipped checkpoint', async () => {
    writeFileSync(join(dir, 'ok.npy'), npyFromHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new Uint8Array(Float32Array.of(1.5, -2).buffer)));
    expect((await readLatentFile(join(dir, 'ok.npy'))).latent.data).toEqual(Float32Array.of(1.5, -2));
    expect((await loadStateDict(TAEF2_PTH)).dict.size).toBeGreaterThan(50);
  });
});
