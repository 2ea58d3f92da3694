// PyTorch checkpoints (`torch.save`, zip format since torch 1.6): `<archive>/data.pkl` is a pickle
// of the state dict whose tensors point, through persistent ids, at raw storages in
// `<archive>/data/<key>`. The pickle is read by a small interpreter that knows only what a tensor
// state dict needs: it never imports or calls anything, and refuses every other global.
import { fail, type TaesdErrorReason } from '../errors.js';
import { DTYPE_SIZE, toFloat32 } from './safetensors.js';
import { elementCount, MAX_ELEMENTS, type DType, type StateDict } from './tensor.js';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';

/** A `module.name` the pickle refers to; only the allow-listed ones below ever exist. */
class Global {
  constructor(readonly path: string) {}
}

/** A storage from a persistent id: `numel` elements of `dtype` in `data/<key>`. */
class StorageRef {
  constructor(readonly dtype: DType, readonly key: string, readonly numel: number) {}
}

/** What `torch._utils._rebuild_tensor_v2` would build: a strided view of a storage. */
class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

// Dicts are Maps, tuples and lists are arrays.
type Value = null | boolean | number | string | Uint8Array | Value[] | Map<Value, Value> | Global | StorageRef | TensorRef;

/** Storage classes named in persistent ids, by the dtype they hold. */
const STORAGES: Readonly<Record<string, DType>> = {
  'torch.DoubleStorage': 'F64', 'torch.FloatStorage': 'F32', 'torch.HalfStorage': 'F16', 'torch.BFloat16Storage': 'BF16',
  'torch.LongStorage': 'I64', 'torch.IntStorage': 'I32', 'torch.ShortStorage': 'I16', 'torch.CharStorage': 'I8',
  'torch.ByteStorage': 'U8', 'torch.BoolStorage': 'BOOL',
};

/** The only callables a state dict needs; everything else is refused as unsafe. */
const CALLABLES = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

/** Opcodes that build arbitrary objects (INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1/2/4): refused as unsafe. */
const CONSTRUCTORS: Readonly<Record<number, string>> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
};

/** Most bytes inflated from one archive, all kept entries together: a float32 TAESana decoder is 33 MB, TAEF2's fp16 file 2.7 MB. */
export const MAX_ARCHIVE_BYTES = 2 ** 26;

/** Largest data.pkl read: TAESD-family pickles are ~11 KB. Every opcode is a byte or more, so this also bounds the work. */
export const MAX_PICKLE_BYTES = 2 ** 20;

/** Most values and marks on the pickle stack at once: torch's pickler batches 1000 dict items per SETITEMS, so real stacks stay near 2,000. */
export const MAX_PICKLE_STACK = 100_000;

/** Most memo entries: one per object pickled, ~1,000 for a TAESD decoder. */
export const MAX_PICKLE_MEMO = 100_000;

/** Most dimensions of a tensor view: TAESD's are at most 4-D; the cap keeps a reused huge shape tuple from costing per use. */
export const MAX_RANK = 8;

/** The entries a state dict needs: the pickle, its byte order and the storages. */
const KEPT_ENTRY = /(?:^|\/)(?:data\.pkl|byteorder|data\/[^/]+)$/;

function isCount(v: Value): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** Runs the pickle in `bytes` and returns the object it builds. */
function unpickle(bytes: Uint8Array, name: string): Value {
  function corrupt(reason: TaesdErrorReason, problem: string): never {
    fail('WEIGHTS_CORRUPT', `${name}: data.pkl ${problem}`, { reason });
  }
  function unsafe(reason: 'UNSAFE_GLOBAL' | 'UNSAFE_CALL', what: string): never {
    fail('WEIGHTS_UNSAFE', `${name}: pickle asks for ${what}; only tensor state dicts are read`, { reason });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  const take = (n: number): number => {
    if (n < 0 || pos + n > bytes.byteLength) corrupt('TRUNCATED', `is truncated at byte ${pos} (needs ${n} more bytes, has ${bytes.byteLength - pos})`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => view.getUint8(take(1));
  const u32 = (): number => view.getUint32(take(4), true);
  const u64 = (): number => {
    const n = view.getBigUint64(take(8), true);
    if (n > BigInt(bytes.byteLength)) corrupt('TRUNCATED', `has a length ${n} past its end`);
    return Number(n);
  };
  const utf8 = (n: number): string => new TextDecoder().decode(bytes.subarray(take(n), pos));
  const latin1 = (n: number): string => {
    let s = '';
    for (const c of bytes.subarray(take(n), pos)) s += String.fromCharCode(c);
    return s;
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) corrupt('TRUNCATED', 'is truncated inside a GLOBAL name');
    const s = latin1(end - pos);
    take(1); // the newline
    return s;
  };

  const stack: Value[] = [];
  const marks: number[] = [];
  const memo = new Map<number, Value>();
  const room = (): void => {
    if (stack.length + marks.length >= MAX_PICKLE_STACK) corrupt('TOO_LARGE', `stacks over ${MAX_PICKLE_STACK} values and marks (byte ${pos - 1})`);
  };
  const push = (v: Value): void => {
    room();
    stack.push(v);
  };
  const memoize = (i: number, v: Value): void => {
    if (memo.size >= MAX_PICKLE_MEMO && !memo.has(i)) corrupt('TOO_LARGE', `stores over ${MAX_PICKLE_MEMO} memo entries (byte ${pos - 1})`);
    memo.set(i, v);
  };
  // Items below the last MARK are out of reach until it is popped, as in Python's unpickler.
  const top = (): Value => {
    if (stack.length === 0 || stack.length === marks[marks.length - 1]) corrupt('MALFORMED', `reads an empty stack at byte ${pos - 1}`);
    return stack[stack.length - 1]!;
  };
  const pop = (): Value => {
    top();
    return stack.pop()!;
  };
  const popMark = (): Value[] => {
    const mark = marks.pop();
    if (mark === undefined) corrupt('MALFORMED', `has no MARK before byte ${pos - 1}`);
    return stack.splice(mark);
  };
  const global = (module: string, attr: string): Global => {
    const path = `${module}.${attr}`;
    if (!CALLABLES.has(path) && !Object.hasOwn(STORAGES, path)) unsafe('UNSAFE_GLOBAL', path);
    return new Global(path);
  };
  const setItems = (dict: Value, items: Value[]): void => {
    if (!(dict instanceof Map) || items.length % 2) corrupt('MALFORMED', `sets items on a ${describe(dict)}`);
    for (let i = 0; i < items.length; i += 2) dict.set(items[i]!, items[i + 1]!);
  };
  const appendItems = (list: Value, items: Value[]): void => {
    if (!Array.isArray(list)) corrupt('MALFORMED', `appends to a ${describe(list)}`);
    for (const item of items) list.push(item);
  };

  for (;;) {
    const at = pos;
    const op = u8();
    switch (op) {
      case 0x80: if (u8() > 5) corrupt('UNSUPPORTED', 'uses a pickle protocol newer than 5'); break; // PROTO
      case 0x95: take(8); break; // FRAME: a framing hint only
      case 0x2e: return pop(); // STOP
      case 0x28: room(); marks.push(stack.length); break; // MARK
      case 0x31: popMark(); break; // POP_MARK
      case 0x30: pop(); break; // POP
      case 0x32: push(top()); break; // DUP
      case 0x4e: push(null); break; // NONE
      case 0x88: push(true); break; // NEWTRUE
      case 0x89: push(false); break; // NEWFALSE
      case 0x4b: push(u8()); break; // BININT1
      case 0x4d: push(view.getUint16(take(2), true)); break; // BININT2
      case 0x4a: push(view.getInt32(take(4), true)); break; // BININT
      case 0x8a: { // LONG1: n-byte little-endian two's complement
        const n = u8();
        const start = take(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[start + i]!);
        if (n && bytes[start + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) corrupt('TOO_LARGE', `has an integer too large for a tensor (byte ${at})`);
        push(Number(v));
        break;
      }
      case 0x47: push(view.getFloat64(take(8), false)); break; // BINFLOAT, big-endian
      case 0x58: push(utf8(u32())); break; // BINUNICODE
      case 0x8c: push(utf8(u8())); break; // SHORT_BINUNICODE
      case 0x8d: push(utf8(u64())); break; // BINUNICODE8
      case 0x54: push(latin1(view.getInt32(take(4), true))); break; // BINSTRING (Python 2 str)
      case 0x55: push(latin1(u8())); break; // SHORT_BINSTRING
      case 0x42: { const n = u32(); push(bytes.slice(take(n), pos)); break; } // BINBYTES
      case 0x43: { const n = u8(); push(bytes.slice(take(n), pos)); break; } // SHORT_BINBYTES
      case 0x29: push([]); break; // EMPTY_TUPLE
      case 0x5d: push([]); break; // EMPTY_LIST
      case 0x7d: push(new Map()); break; // EMPTY_DICT
      case 0x74: case 0x6c: push(popMark()); break; // TUPLE, LIST
      case 0x85: push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); push([pop(), b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); push([pop(), b, c]); break; } // TUPLE3
      case 0x64: { const d = new Map<Value, Value>(); setItems(d, popMark()); push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x61: { const v = pop(); appendItems(top(), [v]); break; } // APPEND
      case 0x65: { const items = popMark(); appendItems(top(), items); break; } // APPENDS
      case 0x71: memoize(u8(), top()); break; // BINPUT
      case 0x72: memoize(u32(), top()); break; // LONG_BINPUT
      case 0x94: memoize(memo.size, top()); break; // MEMOIZE
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) corrupt('MALFORMED', `reads memo ${i}, which was never stored (byte ${at})`);
        push(memo.get(i)!);
        break;
      }
      case 0x63: { const module = line(); push(global(module, line())); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const attr = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof attr !== 'string') corrupt('MALFORMED', `has a STACK_GLOBAL without names (byte ${at})`);
        push(global(module, attr));
        break;
      }
      case 0x51: push(persistentLoad(pop())); break; // BINPERSID
      case 0x52: { const args = pop(); push(call(pop(), args)); break; } // REDUCE
      case 0x62: { // BUILD: sets attributes; OrderedDict's `_metadata` and tensor state are not needed
        pop();
        const obj = top();
        if (!(obj instanceof Map || obj instanceof TensorRef)) corrupt('MALFORMED', `sets state on a ${describe(obj)} (byte ${at})`);
        break;
      }
      default:
        if (CONSTRUCTORS[op]) unsafe('UNSAFE_CALL', `object construction (${CONSTRUCTORS[op]} opcode at byte ${at})`);
        corrupt('UNSUPPORTED', `has unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at}`);
    }
  }

  function persistentLoad(pid: Value): StorageRef {
    // torch's persistent id: ('storage', storage class, key, location, numel)
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') corrupt('MALFORMED', `has a persistent id that is not a storage: ${describe(pid)}`);
    const [, type, key, , numel] = pid;
    if (!(type instanceof Global) || !Object.hasOwn(STORAGES, type.path)) corrupt('MALFORMED', `has a storage of type ${describe(type)}`);
    if (typeof key !== 'string' || !isCount(numel)) corrupt('MALFORMED', `has a storage with key ${describe(key)} and size ${describe(numel)}`);
    return new StorageRef(STORAGES[type.path]!, key, numel);
  }

  function call(fn: Value, args: Value): Value {
    if (!(fn instanceof Global) || !Array.isArray(args)) corrupt('MALFORMED', `calls a ${describe(fn)} with ${describe(args)}`);
    if (fn.path === 'collections.OrderedDict' && args.length === 0) return new Map();
    if (fn.path === 'torch._utils._rebuild_parameter' && args[0] instanceof TensorRef) return args[0];
    if (fn.path === 'torch._utils._rebuild_tensor_v2') {
      const [storage, offset, shape, stride] = args;
      if (!(storage instanceof StorageRef) || !isCount(offset) || !Array.isArray(shape) || !Array.isArray(stride) || shape.length > MAX_RANK
        || !shape.every(isCount) || !stride.every(isCount) || shape.length !== stride.length) {
        corrupt('MALFORMED', `rebuilds a tensor from ${describe(args)}`);
      }
      // The last element the view reads must lie inside its storage.
      const last = shape.some((d) => d === 0) ? -1 : shape.reduce((s: number, d, i) => s + (d - 1) * stride[i]!, offset);
      if (last >= storage.numel) corrupt('BAD_LAYOUT', `has a tensor [${shape.join(',')}] at offset ${offset} stride [${stride.join(',')}] past the end of storage ${storage.key} (${storage.numel} elements)`);
      return new TensorRef(storage, offset, shape, stride);
    }
    if (Object.hasOwn(STORAGES, fn.path)) unsafe('UNSAFE_CALL', `a call to ${fn.path}`);
    corrupt('MALFORMED', `calls ${fn.path} with ${describe(args)}`);
  }
}

function describe(v: Value): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return `tuple of ${v.length}`;
  if (v instanceof Map) return 'dict';
  if (v instanceof Global) return v.path;
  if (v instanceof StorageRef) return 'storage';
  if (v instanceof TensorRef) return 'tensor';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v);
}

/** Row-major copy of a strided view of `storage`. */
function gather(storage: Float32Array, t: TensorRef): Float32Array {
  const count = elementCount(t.shape);
  let contiguous = true;
  for (let i = t.shape.length - 1, step = 1; i >= 0; step *= t.shape[i]!, i--) {
    if (t.shape[i]! > 1 && t.stride[i] !== step) contiguous = false;
  }
  if (contiguous) return storage.slice(t.offset, t.offset + count);
  const out = new Float32Array(count);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let n = 0, at = t.offset; n < count; n++) {
    out[n] = storage[at]!;
    // Odometer: bump the last index, carrying into earlier ones.
    for (let d = t.shape.length - 1; d >= 0; d--) {
      if (++index[d]! < t.shape[d]!) { at += t.stride[d]!; break; }
      at -= (t.shape[d]! - 1) * t.stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/**
 * Reads a PyTorch zip checkpoint holding a state dict (`torch.save(model.state_dict())`), every
 * tensor converted to row-major float32. `name` (default `"pth"`) names the file in errors.
 * Throws WEIGHTS_CORRUPT for a damaged archive or pickle, or one past a limit (MAX_ZIP_ENTRIES,
 * MAX_ARCHIVE_BYTES, MAX_PICKLE_*, MAX_RANK, MAX_ELEMENTS), checked before the memory is
 * allocated; WEIGHTS_UNSAFE when the pickle asks for anything but OrderedDicts, tensors and
 * storages. Non-tensor values in the dict are skipped. `maxElements` raises the cap for larger
 * models (the TAEHV checkpoints).
 */
export function parsePth(bytes: Uint8Array, name = 'pth', maxElements = MAX_ELEMENTS): StateDict {
  function corrupt(reason: TaesdErrorReason, problem: string): never {
    fail('WEIGHTS_CORRUPT', `${name}: ${problem}`, { reason });
  }
  const entries = new Map<string, ZipEntry>();
  const others: string[] = [];
  let skipped = 0;
  let total = 0;
  for (const e of readZipDirectory(bytes, corrupt)) {
    if (!KEPT_ENTRY.test(e.name)) { if (skipped++ < 3) others.push(e.name.slice(0, 60)); continue; }
    if (e.name.endsWith('data.pkl') && e.size > MAX_PICKLE_BYTES) corrupt('TOO_LARGE', `${e.name} is ${e.size} bytes, over the ${MAX_PICKLE_BYTES}-byte limit`);
    total += e.size;
    if (total > MAX_ARCHIVE_BYTES) corrupt('TOO_LARGE', `zip entries claim over ${MAX_ARCHIVE_BYTES} bytes in all (at ${e.name})`);
    entries.set(e.name, e);
  }
  const read = (entry: ZipEntry): Uint8Array => readZipEntry(bytes, entry, corrupt);
  const pkl = [...entries.keys()].filter((f) => /(?:^|\/)data\.pkl$/.test(f)).sort((a, b) => a.length - b.length)[0];
  if (pkl === undefined) {
    const listed = others.length ? ` (it holds ${others.map((n) => JSON.stringify(n)).join(', ')}${skipped > others.length ? ', ...' : ''})` : '';
    corrupt('WRONG_FORMAT', `a zip archive without data.pkl${listed}, not a PyTorch checkpoint: expected torch.save's zip (<name>/data.pkl and <name>/data/<n>) or a .safetensors file`);
  }
  const pklEntry = entries.get(pkl)!;
  const prefix = pkl.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  const byteorder = order ? new TextDecoder().decode(read(order)).trim() : 'little';
  if (byteorder !== 'little' && byteorder !== 'big') corrupt('MALFORMED', `byteorder is ${JSON.stringify(byteorder.slice(0, 40))}, not "little" or "big"`);

  const pickled = unpickle(read(pklEntry), name);
  // torch.save of one tensor (e.g. a latent): read as a dict of that tensor alone, named "tensor".
  const root = pickled instanceof TensorRef ? new Map<Value, Value>([['tensor', pickled]]) : pickled;
  if (!(root instanceof Map)) corrupt('WRONG_FORMAT', `pickle holds a ${describe(root)}, not a state dict`);

  // First every tensor and storage is checked and counted, then memory is allocated. Stride-0
  // views let a tiny pickle claim any number of elements, so all of them share one cap.
  const tensors: [string, TensorRef][] = [];
  const storageRefs = new Map<string, { ref: StorageRef; entry: ZipEntry }>();
  let elements = 0;
  const count = (n: number, what: string): void => {
    elements += n;
    if (elements > maxElements) corrupt('TOO_LARGE', `${what} brings the file to over ${maxElements} elements`);
  };
  for (const [key, value] of root) {
    if (!(value instanceof TensorRef)) continue;
    if (typeof key !== 'string') corrupt('MALFORMED', `state dict has a non-string key ${describe(key)}`);
    const s = value.storage;
    const file = `${prefix}data/${s.key}`;
    const known = storageRefs.get(s.key);
    if (known && (known.ref.dtype !== s.dtype || known.ref.numel !== s.numel)) corrupt('MALFORMED', `storage ${file} is used as two different storages (tensor ${key})`);
    if (!known) {
      const entry = entries.get(file) ?? corrupt('MALFORMED', `missing storage file ${file} for tensor ${key}`);
      const needed = s.numel * DTYPE_SIZE[s.dtype];
      if (entry.size < needed) corrupt('TRUNCATED', `truncated: storage ${file} for tensor ${key} has ${entry.size} bytes, needs ${needed}`);
      count(s.numel, `storage ${file}`);
      storageRefs.set(s.key, { ref: s, entry });
    }
    count(elementCount(value.shape), `tensor ${key} [${value.shape.join(',')}]`);
    tensors.push([key, value]);
  }
  if (tensors.length === 0) corrupt('WRONG_FORMAT', 'state dict holds no tensors');

  const storages = new Map<string, Float32Array>();
  const dict: StateDict = new Map();
  for (const [key, t] of tensors) {
    const s = t.storage;
    let data = storages.get(s.key);
    if (!data) {
      data = toFloat32(s.dtype, read(storageRefs.get(s.key)!.entry), s.numel, byteorder === 'little');
      storages.set(s.key, data);
    }
    dict.set(key, { dtype: s.dtype, shape: t.shape, data: gather(data, t) });
  }
  return dict;
}
