// A bounded reader for the zip archives `torch.save` writes (stored or deflated entries, with
// the zip64 end records torch always adds). It reads the central directory under an entry cap,
// checks every local header against it, and hands out entries only through a size-capped
// inflate and a CRC-32 check, so a damaged or hostile archive fails before it costs much.
// Layout: PKWARE APPNOTE.TXT, sections 4.3 (records) and 4.5.3 (zip64 extra field).
import { crc32 } from '../crc32.js';
import type { TaesdErrorReason } from '../errors.js';
import { inflateExactly } from './inflate.js';

/** Most entries a readable archive may list; torch.save writes one per storage plus ~6 (TAEF2: 85, TAESana: 107). */
export const MAX_ZIP_ENTRIES = 4096;

/** One archive member, as the central directory describes it. */
export interface ZipEntry {
  readonly name: string;
  /** 0 stored, 8 deflated. */
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  /** Uncompressed size. */
  readonly size: number;
  /** Where the member's data starts (past its local header). */
  readonly dataStart: number;
}

const END = 0x06054b50;
const END64 = 0x06064b50;
const END64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const DESCRIPTOR = 0x08074b50;
const CENTRAL_BYTES = 46;
const LOCAL_BYTES = 30;
const U32_MAX = 0xffffffff;

type Corrupt = (reason: TaesdErrorReason, problem: string) => never;

/** Zip64 sizes and offset: in the extra field (id 1), in order, for each 32-bit field that is all ones. */
function zip64Fields(view: DataView, at: number, length: number, wanted: number, corrupt: Corrupt): number[] {
  for (let p = at; p + 4 <= at + length; ) {
    const id = view.getUint16(p, true);
    const size = view.getUint16(p + 2, true);
    if (p + 4 + size > at + length) break;
    if (id === 1) {
      if (size < 8 * wanted) corrupt('MALFORMED', `has a zip64 extra field of ${size} bytes, needs ${8 * wanted}`);
      return Array.from({ length: wanted }, (_, i) => u64(view, p + 4 + 8 * i, corrupt));
    }
    p += 4 + size;
  }
  return corrupt('MALFORMED', 'has a 32-bit size or offset of 0xFFFFFFFF but no zip64 extra field');
}

function u64(view: DataView, at: number, corrupt: Corrupt): number {
  const n = view.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) corrupt('TOO_LARGE', `has a 64-bit size or offset of ${n}`);
  return Number(n);
}

/** The central directory's place and entry count, from the end record (and its zip64 twin when present). */
function findDirectory(bytes: Uint8Array, view: DataView, corrupt: Corrupt): { count: number; start: number; size: number; end: number } {
  // The end record is the last 22 bytes, or earlier by at most a 65535-byte comment (bytes
  // after the comment are tolerated, as Python's zipfile does).
  let end = -1;
  for (let p = bytes.length - 22; p >= Math.max(0, bytes.length - 22 - 0xffff); p--) {
    if (view.getUint32(p, true) === END && p + 22 + view.getUint16(p + 20, true) <= bytes.length) {
      end = p;
      break;
    }
  }
  if (end < 0) corrupt('TRUNCATED', 'has no zip end record: truncated or not a zip archive');
  let count = view.getUint16(end + 10, true);
  let size = view.getUint32(end + 12, true);
  let start = view.getUint32(end + 16, true);
  let limit = end;
  if (view.getUint16(end + 4, true) !== 0 || view.getUint16(end + 6, true) !== 0 || view.getUint16(end + 8, true) !== count) corrupt('UNSUPPORTED', 'is a multi-disk zip archive');
  if (end >= 20 && view.getUint32(end - 20, true) === END64_LOCATOR) {
    const at = u64(view, end - 12, corrupt);
    if (at + 56 > end - 20 || view.getUint32(at, true) !== END64) corrupt('MALFORMED', 'has a zip64 end locator that points at no zip64 end record');
    if (view.getUint32(at + 16, true) !== 0 || view.getUint32(at + 20, true) !== 0) corrupt('UNSUPPORTED', 'is a multi-disk zip archive');
    count = u64(view, at + 32, corrupt);
    if (u64(view, at + 24, corrupt) !== count) corrupt('UNSUPPORTED', 'is a multi-disk zip archive');
    size = u64(view, at + 40, corrupt);
    start = u64(view, at + 48, corrupt);
    limit = at;
  }
  if (count > MAX_ZIP_ENTRIES) corrupt('TOO_LARGE', `claims ${count} zip entries, over the ${MAX_ZIP_ENTRIES}-entry limit`);
  if (start + size > limit) corrupt('MALFORMED', `has a central directory (${size} bytes at ${start}) that runs past its end record`);
  if (count * CENTRAL_BYTES > size) corrupt('MALFORMED', `claims ${count} zip entries in a ${size}-byte central directory`);
  return { count, start, size, end: start + size };
}

/**
 * Lists an archive's members. Checks the end records, caps the entry count (MAX_ZIP_ENTRIES)
 * before reading entries, and checks that each local header agrees with its central entry
 * (name, method, CRC, sizes), that data lies before the directory, that no two members
 * overlap, and that no name repeats. Refuses encrypted members and methods other than
 * stored and deflate. `corrupt` throws.
 */
export function readZipDirectory(bytes: Uint8Array, corrupt: Corrupt): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dir = findDirectory(bytes, view, corrupt);
  const names = new TextDecoder();
  const entries: (ZipEntry & { headerStart: number })[] = [];
  for (let i = 0, p = dir.start; i < dir.count; i++) {
    if (p + CENTRAL_BYTES > dir.end || view.getUint32(p, true) !== CENTRAL) corrupt('MALFORMED', `has a damaged central directory (entry ${i})`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    let headerStart = view.getUint32(p + 42, true);
    const next = p + CENTRAL_BYTES + nameLength + extraLength + view.getUint16(p + 32, true);
    if (next > dir.end) corrupt('MALFORMED', `has a damaged central directory (entry ${i})`);
    const nameBytes = bytes.subarray(p + CENTRAL_BYTES, p + CENTRAL_BYTES + nameLength);
    const name = names.decode(nameBytes);
    const wide = [size, compressedSize, headerStart].filter((v) => v === U32_MAX).length;
    if (wide) {
      const values = zip64Fields(view, p + CENTRAL_BYTES + nameLength, extraLength, wide, corrupt);
      if (size === U32_MAX) size = values.shift()!;
      if (compressedSize === U32_MAX) compressedSize = values.shift()!;
      if (headerStart === U32_MAX) headerStart = values.shift()!;
    }
    if (flags & 1) corrupt('UNSUPPORTED', `zip entry ${name} is encrypted`);
    if (method !== 0 && method !== 8) corrupt('UNSUPPORTED', `zip entry ${name} uses compression method ${method} (only stored and deflate are read)`);
    if (method === 0 && compressedSize !== size) corrupt('MALFORMED', `zip entry ${name} is stored but its sizes differ (${compressedSize} and ${size})`);

    // The local header must name the same member the same way (Python's zipfile checks the name too).
    const h = headerStart;
    if (h + LOCAL_BYTES > dir.start || view.getUint32(h, true) !== LOCAL) corrupt('MALFORMED', `zip entry ${name} has no local header at byte ${h}`);
    const localNameLength = view.getUint16(h + 26, true);
    const dataStart = h + LOCAL_BYTES + localNameLength + view.getUint16(h + 28, true);
    const local = bytes.subarray(h + LOCAL_BYTES, h + LOCAL_BYTES + localNameLength);
    if (local.length !== nameBytes.length || local.some((b, k) => b !== nameBytes[k])) corrupt('MALFORMED', `zip entry ${name}: its local header names ${JSON.stringify(names.decode(local))}`);
    if (view.getUint16(h + 8, true) !== method) corrupt('MALFORMED', `zip entry ${name}: local header and central directory disagree on the method`);
    if (dataStart + compressedSize > dir.start) corrupt('BAD_LAYOUT', `zip entry ${name} runs into the central directory`);
    // With flag bit 3 (as torch.save writes) the local CRC and sizes are zeros, and a data
    // descriptor after the data holds them: its optional signature, then the CRC.
    if (view.getUint16(h + 6, true) & 8) {
      const d = dataStart + compressedSize;
      const at = d + 8 <= dir.start && view.getUint32(d, true) === DESCRIPTOR ? d + 4 : d;
      if (at + 4 > dir.start || view.getUint32(at, true) !== crc) corrupt('MALFORMED', `zip entry ${name}: data descriptor and central directory disagree on its CRC`);
    } else {
      const localSizes = [view.getUint32(h + 18, true), view.getUint32(h + 22, true)];
      const agree = view.getUint32(h + 14, true) === crc && (localSizes.includes(U32_MAX) || (localSizes[0] === compressedSize && localSizes[1] === size));
      if (!agree) corrupt('MALFORMED', `zip entry ${name}: local header and central directory disagree on its CRC or sizes`);
    }
    entries.push({ name, method, crc, compressedSize, size, dataStart, headerStart });
    p = next;
  }
  const byPlace = [...entries].sort((a, b) => a.headerStart - b.headerStart);
  for (let i = 1; i < byPlace.length; i++) {
    const [a, b] = [byPlace[i - 1]!, byPlace[i]!];
    if (a.dataStart + a.compressedSize > b.headerStart) corrupt('BAD_LAYOUT', `zip entries ${a.name} and ${b.name} overlap`);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) corrupt('MALFORMED', `zip lists ${e.name} twice`);
    seen.add(e.name);
  }
  return entries;
}

/**
 * One member's bytes: a view for a stored member, else inflated into exactly its size. The
 * CRC-32 is checked either way. `corrupt` throws.
 */
export function readZipEntry(bytes: Uint8Array, entry: ZipEntry, corrupt: Corrupt): Uint8Array {
  const raw = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
  const inEntry = (reason: TaesdErrorReason, problem: string): never => corrupt(reason, `zip entry ${entry.name} ${problem}`);
  const data = entry.method === 0 ? raw : inflateExactly(raw, entry.size, 'deflate', inEntry);
  if (crc32(data) !== entry.crc) inEntry('MALFORMED', `fails its CRC-32 check: damaged`);
  return data;
}
