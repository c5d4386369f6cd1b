// Writing .npy files that numpy.load opens: version 1.0 when the header fits in 64 KiB (as numpy
// does), else 2.0; the header padded so the data starts on a 64-byte boundary; little-endian data.
import { writeFileAtomic } from '../../io/atomic.js';
import { NPY_ITEM_SIZE, type NpyDtype } from './npy.js';

/** The typed array each dtype is written from; float16 takes its raw bits as a Uint16Array. */
export interface NpyWriteInput {
  dtype: NpyDtype;
  shape: readonly number[];
  data: Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | BigInt64Array | Float32Array | Float64Array;
}

const HOST_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The file's bytes as chunks (header, data), without copying the data on little-endian hosts. */
export function encodeNpy(a: NpyWriteInput): Uint8Array[] {
  const size = a.shape.reduce((p, d) => p * d, 1);
  if (!a.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new RangeError(`bad NPY shape (${a.shape.join(', ')})`);
  if (a.data.length !== size) throw new RangeError(`shape (${a.shape.join(', ')}) has ${size} elements, data has ${a.data.length}`);
  const itemSize = NPY_ITEM_SIZE[a.dtype];
  if (a.data.BYTES_PER_ELEMENT !== itemSize)
    throw new RangeError(`dtype ${a.dtype} needs ${itemSize}-byte elements, got a ${a.data.constructor.name}`);
  const descr = itemSize === 1 ? `|${a.dtype}` : `<${a.dtype}`;
  // A 1-element tuple needs its trailing comma in Python: (5,).
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const padded = (pre: number): number => Math.ceil((pre + dict.length + 1) / 64) * 64;
  const v1 = padded(10) - 10 <= 0xffff; // the header's length fits version 1.0's 2-byte field
  const pre = v1 ? 10 : 12;
  const total = padded(pre);
  const header = new Uint8Array(total);
  header.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v1 ? 1 : 2, 0]);
  const dv = new DataView(header.buffer);
  if (v1) dv.setUint16(8, total - pre, true);
  else dv.setUint32(8, total - pre, true);
  const text = dict.padEnd(total - pre - 1, ' ') + '\n';
  for (let i = 0; i < text.length; i++) header[pre + i] = text.charCodeAt(i);
  let data = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  if (!HOST_LITTLE && itemSize > 1) {
    data = data.slice();
    for (let i = 0; i < data.length; i += itemSize) data.subarray(i, i + itemSize).reverse();
  }
  return [header, data];
}

/** Writes `a` to `path` atomically (a reader never sees half a file). */
export function writeNpy(path: string, a: NpyWriteInput): void {
  writeFileAtomic(path, encodeNpy(a));
}
