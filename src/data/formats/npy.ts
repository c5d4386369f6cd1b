// NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// the magic `\x93NUMPY`, a version (1.0: 2-byte header length; 2.0: 4-byte; 3.0: 4-byte, UTF-8
// header), a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`
// padded with spaces to a multiple of 64 bytes, then the raw C-order array.
//
// Arrays are not copied on open: the payload stays in the file's mapping (or behind positioned
// reads for files over 4 GiB), and callers read element ranges, so a file larger than RAM works.
// Every size is checked against the file length before anything is allocated.
import { DataError } from '../types.js';
import { openFileBytes, type FileBytes } from './file-bytes.js';

export type NpyDtype = 'u1' | 'i1' | 'i2' | 'i4' | 'i8' | 'f2' | 'f4' | 'f8' | 'b1';
/** What `NpyArray.read` returns: platform byte order; float16 is widened to float32. */
export type NpyTyped = Uint8Array | Int8Array | Int16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

export const NPY_ITEM_SIZE: Record<NpyDtype, number> = { u1: 1, i1: 1, b1: 1, i2: 2, f2: 2, i4: 4, f4: 4, i8: 8, f8: 8 };

/** Where an array's bytes live: a file region or memory (an NPZ member that had to be inflated). */
export interface ByteRange {
  readonly name: string;
  readonly size: number;
  read(offset: number, length: number, what: string): Uint8Array;
}

export interface NpyArray {
  /** The file (or `archive.npz#member`): the id of every error about it. */
  readonly name: string;
  readonly dtype: NpyDtype;
  readonly shape: readonly number[];
  /** Elements in all (the product of `shape`). */
  readonly size: number;
  readonly itemSize: number;
  /** False for big-endian files (`>i4`), which `read` converts. */
  readonly littleEndian: boolean;
  /** Elements [start, start + count) as stored, zero-copy from a mapping when possible (read-only). */
  rawBytes(start: number, count: number): Uint8Array;
  /** Elements [start, start + count) as a fresh typed array in the platform's byte order. */
  read(start?: number, count?: number): NpyTyped;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Parses the header of the .npy in `src` and returns the array over its payload. */
export function parseNpy(src: ByteRange): NpyArray {
  const fail = (why: string): never => {
    throw new DataError(src.name, why);
  };
  if (src.size < 10) fail(`too short for an NPY header (${src.size} bytes)`);
  const pre = src.read(0, 10, 'the NPY preamble');
  if (!MAGIC.every((b, i) => pre[i] === b)) fail('not an NPY file: bad magic (expected \\x93NUMPY)');
  const major = pre[6] as number;
  if (major < 1 || major > 3) fail(`unsupported NPY version ${major}.${pre[7]} (1.0, 2.0 and 3.0 are known)`);
  const dv = new DataView(pre.buffer, pre.byteOffset, pre.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (major > 1 && src.size < 12) fail(`too short for an NPY ${major}.0 header (${src.size} bytes)`);
  const headerLen = major === 1 ? dv.getUint16(8, true) : u32le(src.read(8, 4, 'the header length'));
  const dataStart = 8 + lenBytes + headerLen;
  if (dataStart > src.size) fail(`header of ${headerLen} bytes runs past the end of the ${src.size}-byte file`);
  let header: string;
  try {
    header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(src.read(8 + lenBytes, headerLen, 'the header'));
  } catch {
    return fail('header is not valid UTF-8');
  }
  const { dtype, littleEndian, shape } = parseHeader(header.trim(), fail);
  const itemSize = NPY_ITEM_SIZE[dtype];
  let size = 1;
  for (const d of shape) size *= d;
  const need = size * itemSize;
  // `need` may exceed 2^53 for a lying header; compare before any use so nothing is allocated from it.
  const have = src.size - dataStart;
  if (!Number.isSafeInteger(need) || need !== have)
    fail(`shape (${shape.join(', ')}) of ${dtype} needs ${need} data bytes, file has ${have}${have < need ? ' (truncated)' : ' (trailing data)'}`);
  return makeArray(src, dataStart, dtype, littleEndian, shape, size);
}

/** Opens a .npy file, memory-mapped. Throws a DataError naming the file for any problem. */
export function readNpy(path: string): NpyArray {
  const bytes: FileBytes = openFileBytes(path);
  return parseNpy({ name: path, size: bytes.size, read: (o, l, w) => bytes.read(o, l, w) });
}

function parseHeader(h: string, fail: (why: string) => never): { dtype: NpyDtype; littleEndian: boolean; shape: number[] } {
  if (!h.startsWith('{') || !h.endsWith('}')) fail(`header is not a Python dict: ${clip(h)}`);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(h)?.[1];
  if (descr === undefined) {
    if (/'descr'\s*:\s*\[/.test(h)) fail('structured (record) arrays are not supported: store one plain array per file');
    fail(`header has no 'descr': ${clip(h)}`);
  }
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(h)?.[1];
  if (fortran === undefined) fail(`header has no 'fortran_order': ${clip(h)}`);
  if (fortran === 'True')
    fail("arrays in Fortran order are not supported: save a C-ordered copy (np.save(path, np.ascontiguousarray(a)))");
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(h)?.[1];
  if (shapeText === undefined) fail(`header has no 'shape' tuple: ${clip(h)}`);
  const shape: number[] = [];
  for (const part of (shapeText as string).split(',')) {
    const t = part.trim().replace(/L$/, ''); // Python 2 wrote long integers as `3L`
    if (t === '') continue;
    if (!/^\d{1,15}$/.test(t)) fail(`bad dimension '${part.trim()}' in shape (${shapeText})`);
    shape.push(Number(t));
  }
  const m = /^([<>|=]?)([uifb])(\d+)$/.exec(descr as string);
  const code = m ? `${m[2]}${m[3]}` : '';
  if (!m || !(code in NPY_ITEM_SIZE))
    fail(`unsupported dtype '${descr}' (supported: |u1 |i1 |b1 <i2 <i4 <i8 <f2 <f4 <f8, and big-endian forms)`);
  // '|' (not applicable) and '=' (native) are little-endian on every platform numpy writes from here.
  return { dtype: code as NpyDtype, littleEndian: m?.[1] !== '>', shape };
}

function makeArray(src: ByteRange, start: number, dtype: NpyDtype, littleEndian: boolean, shape: number[], size: number): NpyArray {
  const itemSize = NPY_ITEM_SIZE[dtype];
  const check = (s: number, c: number): void => {
    if (!Number.isSafeInteger(s) || !Number.isSafeInteger(c) || s < 0 || c < 0 || s + c > size)
      throw new DataError(src.name, `elements ${s}..${s + c} are outside the array of ${size}`);
  };
  const rawBytes = (s: number, c: number): Uint8Array => {
    check(s, c);
    return src.read(start + s * itemSize, c * itemSize, `elements ${s}..${s + c}`);
  };
  return {
    name: src.name, dtype, shape, size, itemSize, littleEndian, rawBytes,
    read(s = 0, c = size - s) {
      // A fresh, aligned copy (not .slice(): on a Buffer that is a view, not a copy).
      const raw = new Uint8Array(rawBytes(s, c));
      if (itemSize > 1 && littleEndian !== HOST_LITTLE) swapBytes(raw, itemSize);
      const b = raw.buffer;
      switch (dtype) {
        case 'u1': case 'b1': return raw;
        case 'i1': return new Int8Array(b);
        case 'i2': return new Int16Array(b);
        case 'i4': return new Int32Array(b);
        case 'i8': return new BigInt64Array(b);
        case 'f4': return new Float32Array(b);
        case 'f8': return new Float64Array(b);
        case 'f2': return halfToFloat(new Uint16Array(b));
      }
    },
  };
}

function swapBytes(bytes: Uint8Array, itemSize: number): void {
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/** IEEE 754 binary16 → binary32 (Node 20 has no Float16Array). */
function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i] as number;
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    out[i] = exp === 0 ? sign * 2 ** -14 * (frac / 1024)
      : exp === 31 ? (frac ? NaN : sign * Infinity)
      : sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

/** Any NpyTyped as plain numbers (int64 beyond 2^53 loses precision; callers range-check first). */
export function toNumbers(a: NpyTyped): ArrayLike<number> {
  return a instanceof BigInt64Array ? Float64Array.from(a, Number) : a;
}

const u32le = (b: Uint8Array): number => ((b[0] as number) | ((b[1] as number) << 8) | ((b[2] as number) << 16)) + (b[3] as number) * 2 ** 24;
const clip = (s: string): string => (s.length > 120 ? `${s.slice(0, 120)}…` : s);
