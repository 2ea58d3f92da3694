// Reading an HTTP body with a byte cap, for every fetch of data from elsewhere (weights, progress.json).

/**
 * The bytes of `response`'s body, read in pieces so that a body over `maxBytes` (declared by
 * `content-length` or only sent) stops at the cap: `tooLarge` is called with the bytes seen so
 * far (or declared) and must throw. The body is cancelled before `tooLarge` is called.
 */
export async function readCappedBody(response: Response, maxBytes: number, tooLarge: (bytes: number) => never): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    tooLarge(declared);
  }
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    total += r.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      tooLarge(total);
    }
    chunks.push(r.value);
  }
  const bytes = new Uint8Array(total);
  chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0);
  return bytes;
}
