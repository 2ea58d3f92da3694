// Hand-written pickles and checkpoints, as torch.save writes them, for the loader tests and the fuzzer.
import { zipSync } from 'fflate';

const enc = new TextEncoder();
export const u32le = (n: number): number[] => [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24];
export const str = (s: string): number[] => { const b = enc.encode(s); return [0x58, ...u32le(b.length), ...b]; }; // BINUNICODE
export const int = (n: number): number[] => (n < 256 ? [0x4b, n] : [0x4a, ...u32le(n)]); // BININT1 / BININT
export const glob = (module: string, name: string): number[] => [0x63, ...enc.encode(`${module}\n${name}\n`)]; // GLOBAL
export const tuple = (items: number[][]): number[] => [0x28, ...items.flat(), 0x74]; // MARK ... TUPLE
export const orderedDict = [...glob('collections', 'OrderedDict'), 0x29, 0x52]; // OrderedDict()

export interface PickledTensor { key: string; storage: string; type?: string; numel: number; offset: number; shape: number[]; stride: number[] }

/** One tensor's `key, _rebuild_tensor_v2((storage pid), offset, shape, stride, False, OrderedDict())` items. */
export function pickledTensor(t: PickledTensor): number[] {
  return [
    ...str(t.key),
    ...glob('torch._utils', '_rebuild_tensor_v2'),
    ...tuple([
      [...tuple([str('storage'), glob('torch', t.type ?? 'FloatStorage'), str(t.storage), str('cpu'), int(t.numel)]), 0x51], // BINPERSID
      int(t.offset), tuple(t.shape.map(int)), tuple(t.stride.map(int)), [0x89], orderedDict,
    ]),
    0x52, // REDUCE
  ];
}

export function stateDictPickle(tensors: PickledTensor[]): Uint8Array {
  // OrderedDict, its items, then BUILD with a {'_metadata': ...} state as torch writes.
  return Uint8Array.from([0x80, 2, ...orderedDict, 0x28, ...tensors.flatMap(pickledTensor), 0x75, 0x7d, ...str('_metadata'), ...orderedDict, 0x73, 0x62, 0x2e]);
}

/** A checkpoint zip: `archive/data.pkl`, `archive/byteorder` and the storages, stored (level 0) unless told. */
export function checkpoint(pkl: Uint8Array, storages: Record<string, Uint8Array>, byteorder = 'little', level: 0 | 6 = 0): Uint8Array {
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': pkl, 'archive/byteorder': enc.encode(byteorder) };
  for (const [k, v] of Object.entries(storages)) files[`archive/data/${k}`] = v;
  return zipSync(files, { level });
}

export function floats(values: number[], littleEndian = true): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  values.forEach((v, i) => new DataView(b.buffer).setFloat32(i * 4, v, littleEndian));
  return b;
}
