// Writing PyTorch .pt state dicts the way Python's `torch.save(model.state_dict(), f)` does: a zip
// archive with `archive/data.pkl` (a protocol-2 pickle of a collections.OrderedDict whose values
// are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`),
// one record `archive/data/<key>` per storage, `archive/byteorder` and `archive/version`.
// Every global in it is on the allowlist of `torch.load(weights_only=True)` — the default since
// PyTorch 2.6 — which refuses the `restore_type_tag` wrapper that LibTorch's own pickler adds.
import { native } from '../tensor/native.js';
import { scope, type Tensor } from '../tensor/index.js';
import type { DType } from '../tensor/dtype.js';
import { writeFileAtomic } from './atomic.js';
import { WeightsFileError } from './errors.js';
import { entriesOf, type TensorsIn } from './safetensors.js';
import { elementSize, tensorBytes } from './tensor-bytes.js';
import { zipStoredChunks, type ZipEntry, type ZipWriteOptions } from './zip.js';

const STORAGE_TYPES: Record<DType, string> = {
  float32: 'FloatStorage', float64: 'DoubleStorage', float16: 'HalfStorage', bfloat16: 'BFloat16Storage',
  int64: 'LongStorage', int32: 'IntStorage', int16: 'ShortStorage', int8: 'CharStorage', uint8: 'ByteStorage', bool: 'BoolStorage',
};

/** One storage of the archive: where it comes from and its key (`data/<key>`). */
interface Storage {
  key: string;
  dtype: DType;
  numel: number;
  /** A tensor (CPU, detached) whose storage this is. */
  owner: Tensor;
}

/**
 * Writes `tensors` as a .pt state dict that `torch.load` opens — `weights_only=True` included — as
 * an OrderedDict of str → tensor, atomically. Tensors are saved detached, from the CPU, with their
 * storages: views keep their offsets and strides, and keys that share a storage stay shared after
 * loading, as with torch.save. Storages are produced one at a time while the file is written.
 */
export function savePt(path: string, tensors: TensorsIn, options: ZipWriteOptions = {}): void {
  scope(() => writeFileAtomic(path, ptChunks(tensors, path, options)));
}

/** The bytes of a .pt file holding `tensors` (see savePt). */
export function serializePt(tensors: TensorsIn, options: ZipWriteOptions = {}): Uint8Array {
  return scope(() => {
    const chunks = [...ptChunks(tensors, '<bytes>', options)];
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  });
}

function* ptChunks(tensors: TensorsIn, file: string, options: ZipWriteOptions): Generator<Uint8Array> {
  const entries = entriesOf(tensors);
  const storages = new Map<string, Storage>();
  const p = new PickleWriter();
  p.proto2();
  p.global('collections', 'OrderedDict').emptyTuple().reduce();
  if (entries.length > 0) p.mark();
  for (const [name, t] of entries) {
    if (t.disposed) throw new WeightsFileError(file, `tensor '${name}' was disposed`);
    const cpu = t.device === 'cpu' ? t.detach() : t.detach().to('cpu');
    const { id, nbytes } = native.storageOf(cpu.handle);
    const size = elementSize(cpu.dtype);
    let storage = storages.get(id);
    if (storage && storage.dtype !== cpu.dtype)
      throw new WeightsFileError(file, `tensor '${name}' views the storage of an earlier tensor as ${cpu.dtype} instead of ${storage.dtype}; save a copy (clone()) of one of them`);
    if (!storage) {
      if (nbytes % size !== 0) throw new WeightsFileError(file, `tensor '${name}': its storage of ${nbytes} bytes is not a whole number of ${cpu.dtype} elements`);
      storage = { key: String(storages.size), dtype: cpu.dtype, numel: nbytes / size, owner: cpu };
      storages.set(id, storage);
    }
    p.string(name);
    p.global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().string('storage').global('torch', STORAGE_TYPES[cpu.dtype]).string(storage.key).string('cpu').int(storage.numel).tuple().binpersid();
    p.int(native.describe(cpu.handle).storageOffset);
    p.mark();
    for (const d of cpu.shape) p.int(d);
    p.tuple().mark();
    for (const s of cpu.strides()) p.int(s);
    p.tuple().bool(false);
    p.global('collections', 'OrderedDict').emptyTuple().reduce(); // backward hooks: none
    p.tuple().reduce();
  }
  if (entries.length > 0) p.setitems();
  p.stop();
  const records: ZipEntry[] = [
    { name: 'archive/data.pkl', data: () => p.bytes() },
    { name: 'archive/byteorder', data: () => new TextEncoder().encode('little') },
    ...[...storages.values()].map((s) => ({ name: `archive/data/${s.key}`, data: () => storageBytes(s) })),
    { name: 'archive/version', data: () => new TextEncoder().encode('3\n') },
  ];
  yield* zipStoredChunks(records, options);
}

/** The whole storage, element 0 onwards (a view sees only its window; the file holds all of it). */
function storageBytes(s: Storage): Uint8Array {
  return scope(() => tensorBytes(s.owner.asStrided([s.numel], [1], 0)));
}

/** The few pickle opcodes a state dict needs (protocol 2, as torch.save writes by default). */
class PickleWriter {
  private readonly parts: number[] = [];

  private op(code: string): this {
    this.parts.push(code.charCodeAt(0));
    return this;
  }

  private raw(bytes: Uint8Array): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }

  proto2(): this {
    return this.raw(new Uint8Array([0x80, 2]));
  }

  mark(): this {
    return this.op('(');
  }

  tuple(): this {
    return this.op('t');
  }

  emptyTuple(): this {
    return this.op(')');
  }

  reduce(): this {
    return this.op('R');
  }

  binpersid(): this {
    return this.op('Q');
  }

  setitems(): this {
    return this.op('u');
  }

  stop(): this {
    return this.op('.');
  }

  bool(v: boolean): this {
    return this.raw(new Uint8Array([v ? 0x88 : 0x89]));
  }

  global(module: string, name: string): this {
    return this.op('c').raw(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** BINUNICODE: length-prefixed UTF-8. */
  string(s: string): this {
    const utf8 = new TextEncoder().encode(s);
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, utf8.byteLength, true);
    return this.op('X').raw(len).raw(utf8);
  }

  /** A non-negative integer: BININT1, BININT2, BININT, or LONG1 beyond 2^31 (storages over 8 GB). */
  int(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`pickle: ${n} is not a non-negative safe integer`);
    if (n < 0x100) return this.op('K').raw(new Uint8Array([n]));
    if (n < 0x10000) return this.op('M').raw(new Uint8Array([n & 0xff, n >> 8]));
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    if (n < 2 ** 31) return this.op('J').raw(b.subarray(0, 4));
    // LONG1: length, then two's complement little-endian with a clear sign bit.
    let len = 8;
    while (len > 1 && b[len - 1] === 0 && ((b[len - 2] as number) & 0x80) === 0) len--;
    return this.raw(new Uint8Array([0x8a, len])).raw(b.subarray(0, len));
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}
