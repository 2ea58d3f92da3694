// What a file is, from its first bytes: so a JPEG, a web page or a latent given where weights are
// expected is named as such instead of failing deep inside a parser.

const ascii = (bytes: Uint8Array, at: number, text: string) => [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

/** Magic numbers of files people mistake for weights or latents, and what to call them. */
const MAGICS: readonly [at: number, magic: string | number[], what: string][] = [
  [0, [0xff, 0xd8, 0xff], 'a JPEG image'],
  [0, [0x89, 0x50, 0x4e, 0x47], 'a PNG image'],
  [0, 'GIF8', 'a GIF image'],
  [8, 'WEBP', 'a WebP image'],
  [0, '%PDF', 'a PDF document'],
  [0, [0x1f, 0x8b], 'a gzip archive'],
  [0, 'BZh', 'a bzip2 archive'],
  [0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'an xz archive'],
  [0, [0x28, 0xb5, 0x2f, 0xfd], 'a zstd archive'],
  [0, [0x37, 0x7a, 0xbc, 0xaf], 'a 7-Zip archive'],
  [257, 'ustar', 'a tar archive'],
  [0, 'GGUF', 'a GGUF model (llama.cpp)'],
  [0, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59], 'a NumPy .npy array'],
  [0, [0x50, 0x4b, 0x03, 0x04], 'a zip archive'],
  [0, [0x80, 0x02, 0x8a, 0x0a], 'a legacy (pre-1.6) torch.save file'],
];

/** True when the first `n` bytes are UTF-8 text: no NUL or other control characters but tab, CR, LF, FF. */
function isText(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 512);
  for (const b of head) if ((b < 0x20 && b !== 9 && b !== 10 && b !== 12 && b !== 13) || b === 0x7f) return false;
  try {
    // A multi-byte character cut at byte 512 is not a reason to call it binary.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - (head.length === 512 ? 3 : 0)));
    return head.length > 0;
  } catch {
    return false;
  }
}

/** What text is: a web page, JSON, or text. */
function textKind(bytes: Uint8Array): string {
  const start = new TextDecoder().decode(bytes.subarray(0, 512)).replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || /^<(head|body|meta|script|title)\b/.test(start)) return 'an HTML page (an error page or a download link, not the file itself?)';
  if (start.startsWith('<?xml') || start.startsWith('<svg')) return 'an XML or SVG document';
  if (start.startsWith('version https://git-lfs')) return 'a Git LFS pointer (run git lfs pull)';
  if (start.startsWith('{') || start.startsWith('[')) return 'a JSON text file';
  return 'a text file';
}

/**
 * A phrase naming what `bytes` are when their magic bytes say (`"a JPEG image"`, `"an HTML
 * page ..."`, `"a text file"`), or null when they do not match a known kind. A safetensors file
 * starts with its binary header length (NUL bytes), so it is never taken for text.
 */
export function describeBytes(bytes: Uint8Array): string | null {
  for (const [at, magic, what] of MAGICS) {
    const hit = typeof magic === 'string' ? ascii(bytes, at, magic) : magic.every((b, i) => bytes[at + i] === b);
    if (hit && (at !== 8 || ascii(bytes, 0, 'RIFF'))) return what;
  }
  return isText(bytes) ? textKind(bytes) : null;
}

/** The first bytes in hex, for a message about a file nothing recognises. */
export function firstBytes(bytes: Uint8Array, n = 8): string {
  return [...bytes.subarray(0, n)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
