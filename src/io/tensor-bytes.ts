// Tensors as the raw little-endian bytes both formats store, and back. Half types need care:
// `toBuffer` widens them to float32 for JS, so their 16-bit patterns are read through an int16
// view of the same memory instead.
import { endianness } from 'node:os';

import { dtypeCode, dtypeInfo, type DType } from '../tensor/dtype.js';
import { native } from '../tensor/native.js';
import { scope, Tensor } from '../tensor/index.js';

// Both formats are little-endian; a big-endian host would need byte swaps nobody can test here.
if (endianness() !== 'LE') throw new Error('tessera io: weight files can only be read and written on little-endian hosts');

/** Bytes of one element of `dtype`. */
export function elementSize(dtype: DType): number {
  return dtypeInfo(dtype).bytes;
}

/** A contiguous, little-endian copy of the elements of `t` (any device, any strides), row-major. */
export function tensorBytes(t: Tensor): Uint8Array {
  return scope(() => {
    let x = t.detach();
    if (x.dtype === 'float16' || x.dtype === 'bfloat16') x = x.viewDtype('int16');
    return new Uint8Array(native.toBuffer(x.handle));
  });
}

/**
 * Where `bytes` of a bool tensor hold something other than 0 or 1, or -1. Files can hold any
 * byte, but a C++ bool of another value is undefined behaviour, so readers refuse them.
 */
export function invalidBoolAt(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) > 1) return i;
  return -1;
}

/** A new CPU tensor holding a copy of `bytes`, whose length the caller has checked against the shape. */
export function tensorFromBytes(bytes: Uint8Array, dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(native.fromBuffer(bytes, dtypeCode(dtype), shape));
}
