// Issue #12, items 14-16: pollProgress against hostile or broken servers, real HTTP on 127.0.0.1.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, test } from 'vitest';
import { pollProgress, type PolledImage } from '../src/progress/poll.js';
import type { ProgressRecord } from '../src/progress/record.js';
import { deeplyNestedStatus, endless, hugeBase64 } from './support/hostileBodies.js';

/** A server whose `handle` answers request n (0-based); closed by the returned function. */
async function serve(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<{ origin: string; close: () => Promise<void> }> {
  let n = 0;
  const server = createServer((req, res) => handle(req, res, n++));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const json = (res: ServerResponse, body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(typeof body === 'string' ? body : JSON.stringify(body));
const rec = (step: number, extra: object = {}) => ({ job_id: 'j', status: 'generating', current_step: step, total_steps: 10, progress_percent: step * 10, latest_image: null, timestamp: step, ...extra });
const done = (extra: object = {}) => rec(10, { status: 'completed', latest_image: 'step_final.jpeg', ...extra });
/** An IO error with `reason`, whose message names each of `named` (a value the record or the options gave). */
const io = (reason: string, ...named: string[]) => expect.objectContaining({ code: 'IO', reason, ...(named.length > 0 && { message: expect.toSatisfy((m: string) => named.every((n) => m.includes(n))) }) });

/** Polls a server answering `bodies[n]` (the last one from then on) and collects what the callbacks saw. */
async function pollBodies(bodies: unknown[], options: Parameters<typeof pollProgress>[1] = {}) {
  const server = await serve((_, res, n) => json(res, bodies[Math.min(n, bodies.length - 1)]));
  const images: PolledImage[] = [];
  const steps: number[] = [];
  const errors: unknown[] = [];
  try {
    const last = await pollProgress(`${server.origin}/jobs/a/progress.json`, {
      intervalMs: 50,
      onImage: (im) => images.push(im),
      onProgress: (r) => steps.push(r.current_step),
      onError: (e) => errors.push(e),
      ...options,
    }).catch((e: Error) => e);
    return { last, images, steps, errors, origin: server.origin };
  } finally {
    await server.close();
  }
}

describe('item 14: latest_image must be a plain file name in the JSON\'s folder', () => {
  const hostile = ['../../etc/passwd', '../x.jpeg', 'https://other.example/x.jpeg', '//other.example/x.jpeg', 'javascript:alert(1)//.png', 'data:text/html,<script>alert(1)</script>.png',
    '%2e%2e/x.png', '%2e%2e', 'a/b.jpeg', 'a\\b.jpeg', '.hidden.jpeg', 'x.jpeg?y', 'x.jpeg#y', 'x.svg', 'x.html', 'step_0001.constructor', 'C:x.png', 'x\n.png'];
  test.each(hostile)('%s is reported and skipped', async (name) => {
    const { last, images, errors, origin } = await pollBodies([rec(1, { latest_image: name }), rec(2, { latest_image: 'step_0002.jpeg' }), done()]);
    expect(last).toMatchObject({ status: 'completed' });
    expect(images.map((i) => i.url)).toEqual([`${origin}/jobs/a/step_0002.jpeg`, `${origin}/jobs/a/step_final.jpeg`]);
    expect(errors).toEqual([io('UNSAFE_NAME', JSON.stringify(name))]);
  });

  test('names with spaces, unicode and dots stay in the folder', async () => {
    const { images, errors, origin } = await pollBodies([rec(1, { latest_image: 'my run_0001.jpeg' }), rec(2, { latest_image: 'é..x_0002.PNG' }), done()]);
    expect(errors).toEqual([]);
    expect(images.map((i) => i.url)).toEqual([`${origin}/jobs/a/my%20run_0001.jpeg`, `${origin}/jobs/a/%C3%A9..x_0002.PNG`, `${origin}/jobs/a/step_final.jpeg`]);
  });
});

describe('item 15: each request is bounded in time', () => {
  test.each([
    ['headers, then nothing', (res: ServerResponse) => void res.writeHead(200, { 'content-type': 'application/json' }).write('{')],
    ['one byte every 200 ms', (res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const t = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(t));
    }],
    ['no answer at all', () => undefined],
  ])('%s: a timeout, reported as a network error, then the poll goes on', async (_, stall) => {
    const server = await serve((_req, res, n) => (n < 2 ? stall(res) : json(res, done())));
    const errors: unknown[] = [];
    try {
      // Each stalled request ends as its timeout's error, and the third poll completes.
      const last = await pollProgress(`${server.origin}/progress.json`, { intervalMs: 50, requestTimeoutMs: 300, onError: (e) => errors.push(e) });
      expect(last.status).toBe('completed');
    } finally {
      await server.close();
    }
    expect(errors).toEqual([io('TIMEOUT', '300 ms'), io('TIMEOUT', '300 ms')]);
  });
});

describe('item 16: redirects, types, base64, steps and stuck records', () => {
  test('images resolve in the folder the JSON was redirected to', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/old/progress.json') return void res.writeHead(302, { location: '/new/dir/progress.json' }).end();
      json(res, done());
    });
    const images: PolledImage[] = [];
    try {
      await pollProgress(`${server.origin}/old/progress.json`, { intervalMs: 50, onImage: (im) => images.push(im) });
    } finally {
      await server.close();
    }
    expect(images.map((i) => i.url)).toEqual([`${server.origin}/new/dir/step_final.jpeg`]);
  });

  test('image_base64 becomes a data URL only when it is base64, typed by the file name', async () => {
    const { images, errors } = await pollBodies([
      rec(1, { latest_image: 'step_0001.png', image_base64: 'iVBORw0KGgo=' }),
      rec(2, { latest_image: 'step_0002.jpeg', image_base64: '"><script>alert(1)</script>' }),
      rec(3, { latest_image: 'step_0003.jpeg', image_base64: 'AAA' }),
      done({ image_base64: '' }),
    ]);
    expect(images.map((i) => i.dataUrl)).toEqual(['data:image/png;base64,iVBORw0KGgo=', null, null, null]);
    expect(errors).toEqual([io('MALFORMED', 'image_base64', 'step_0002.jpeg'), io('MALFORMED', 'image_base64', 'step_0003.jpeg')]);
  });

  test('malformed records are reported and cannot poison the steps that follow', async () => {
    const { steps, errors } = await pollBodies([
      rec(1),
      rec(1e308),
      rec(2, { current_step: 11 }),
      rec(2, { total_steps: -1 }),
      rec(2, { timestamp: 'soon' }),
      rec(2, { latest_step: 99 }),
      rec(2, { latest_image: 7 }),
      rec(2),
      rec(3, { latest_image: 'step_99999999999999999999999.jpeg' }),
      done(),
    ]);
    expect(steps).toEqual([1, 2, 3, 10]);
    // Each names the field it refused (and the 1e+23 step, its value).
    expect(errors).toEqual([
      io('MALFORMED', 'current_step', '0..10'),
      io('MALFORMED', 'current_step', '0..10'),
      io('MALFORMED', 'total_steps'),
      io('MALFORMED', 'timestamp'),
      io('MALFORMED', 'latest_step'),
      io('MALFORMED', 'latest_image'),
      io('MALFORMED', 'step 1e+23 of 10'),
    ]);
  });

  test('one record far ahead does not silence the run: three polls back are a restart', async () => {
    const { steps, errors } = await pollBodies([rec(1), rec(9), rec(2), rec(3), rec(4), rec(5), done()]);
    expect(steps).toEqual([1, 9, 4, 5, 10]);
    expect(errors).toEqual([io('RESTARTED', 'step 4')]);
  });

  test.each([
    ['unparsable JSON', '{"status": "generat'],
    ['an unknown status', rec(1, { status: 'paused' })],
    ['an array', '[1, 2]'],
  ])('%s forever ends the poll with IO after maxMalformedPolls', async (_, body) => {
    const { last, errors } = await pollBodies([rec(1), body], { maxMalformedPolls: 5 });
    expect(last).toEqual(io('MALFORMED', '5 times'));
    expect(errors.length).toBe(5);
  });

  test('a run that stops changing ends with IO after staleAfterMs; a changing one does not', async () => {
    const stuck = await pollBodies([rec(1), rec(2)], { staleAfterMs: 400 });
    expect(stuck.last).toEqual(expect.objectContaining({ code: 'IO', reason: 'STALE' }));
    let t = 0;
    const beating = Array.from({ length: 20 }, () => rec(1, { timestamp: ++t })); // a heartbeat: same step, new timestamps
    const alive = await pollBodies([...beating, done()], { staleAfterMs: 400 });
    expect((alive.last as ProgressRecord).status).toBe('completed');
  });

  test('options out of range are BAD_OPTION', async () => {
    for (const o of [{ requestTimeoutMs: 10 }, { staleAfterMs: 0 }, { maxMalformedPolls: 0 }, { intervalMs: Number.NaN }]) {
      await expect(pollProgress('http://127.0.0.1:9/p.json', o), JSON.stringify(o)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    }
  });
});

describe('issue #19: bodies, base64, names and redirects from a hostile server', () => {
  test('an image_base64 of 6 MB is checked without a regex: valid becomes a data URL, invalid is reported', async () => {
    const valid = hugeBase64(6e6);
    const invalid = `${valid.slice(0, -4)}AA!=`;
    const { last, images, errors } = await pollBodies([rec(1, { latest_image: 'step_0001.png', image_base64: valid }), rec(2, { latest_image: 'step_0002.png', image_base64: invalid }), done()]);
    expect(last).toMatchObject({ status: 'completed' });
    expect(images.map((i) => i.dataUrl?.length ?? null)).toEqual([valid.length + 'data:image/png;base64,'.length, null, null]);
    expect(errors).toEqual([io('MALFORMED', 'image_base64', 'step_0002.png')]);
  });

  test.each([
    ['an endless body', (res: ServerResponse) => endless(res, false)],
    ['a declared 200 MB body', (res: ServerResponse) => endless(res, true)],
  ])('%s is dropped at maxBodyBytes, typed, in bounded memory, and counts as malformed', async (_, send) => {
    const server = await serve((_req, res) => send(res));
    const errors: unknown[] = [];
    const before = process.memoryUsage().rss;
    try {
      const last = await pollProgress(`${server.origin}/progress.json`, { intervalMs: 50, maxBodyBytes: 1 << 20, maxMalformedPolls: 3, onError: (e) => errors.push(e) }).catch((e: unknown) => e);
      // Ended as malformed; the last answer's own error, over the cap, is its cause.
      expect(last).toEqual(expect.objectContaining({ code: 'IO', reason: 'MALFORMED', message: expect.stringContaining('3 times'), cause: io('TOO_LARGE', '1048576', 'maxBodyBytes') }));
    } finally {
      await server.close();
    }
    expect(errors).toEqual(Array(3).fill(io('TOO_LARGE', '1048576')));
    expect(process.memoryUsage().rss - before).toBeLessThan(200 << 20);
  });

  test('the default cap reads a record holding an 8 MB image_base64', async () => {
    const { images } = await pollBodies([done({ latest_image: 'step_final.png', image_base64: hugeBase64(8e6) })]);
    expect(images[0]!.dataUrl).not.toBeNull();
  });

  test('a status nested 100,000 deep is malformed (typed), so maxMalformedPolls ends the poll', async () => {
    const { last, errors } = await pollBodies([rec(1), deeplyNestedStatus(100_000)], { maxMalformedPolls: 3 });
    expect(last).toEqual(expect.objectContaining({ code: 'IO', reason: 'MALFORMED', message: expect.stringContaining('3 times'), cause: io('MALFORMED', 'status', 'array') }));
    expect(errors).toEqual(Array(3).fill(io('MALFORMED', 'status', 'array')));
  });

  test.each([' .secret.png', '\u00a0x.png'.replace('\u00a0', ' '), '  .x.jpeg'])('%j is not a plain name (the URL parser would strip the space)', async (name) => {
    const { images, errors, origin } = await pollBodies([rec(1, { latest_image: name }), done()]);
    expect(images.map((i) => i.url)).toEqual([`${origin}/jobs/a/step_final.jpeg`]);
    expect(errors).toEqual([io('UNSAFE_NAME', JSON.stringify(name))]);
  });

  test('a redirect to another origin keeps the records but follows no images there; one within the origin does', async () => {
    const other = await serve((req, res) => json(res, done()));
    const first = await serve((req, res) => res.writeHead(302, { location: req.url === '/same' ? '/moved/progress.json' : `${other.origin}/jobs/b/progress.json` }).end());
    const images: PolledImage[] = [];
    const errors: unknown[] = [];
    try {
      const last = await pollProgress(`${first.origin}/cross`, { intervalMs: 50, onImage: (im) => images.push(im), onError: (e) => errors.push(e) });
      expect(last.status).toBe('completed');
      expect(images).toEqual([]);
      expect(errors).toEqual([io('CROSS_ORIGIN', other.origin)]);
    } finally {
      await other.close();
      await first.close();
    }
  });

  test('maxBodyBytes out of range is BAD_OPTION', async () => {
    for (const maxBodyBytes of [0, 1023, 2 ** 31, Number.NaN]) {
      await expect(pollProgress('http://127.0.0.1:9/p.json', { maxBodyBytes })).rejects.toMatchObject({ code: 'BAD_OPTION' });
    }
  });
});
