// Element types. Users name them as strings ('float32'); they cross the boundary as the codes of
// the generated enum table (codegen/enums.ts), which the native side checks against LibTorch.
import { DTYPES, DTYPES_BY_CODE, type DType } from './generated/enums.js';

export type { DType };

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array;

interface DTypeInfo {
  bytes: number;
  floating: boolean;
  /** The TypedArray that `data()` returns for this dtype. */
  array: { new (buffer: ArrayBuffer): TypedArray; new (length: number): TypedArray };
}

const INFO: Record<DType, DTypeInfo> = {
  float32: { bytes: 4, floating: true, array: Float32Array },
  float64: { bytes: 8, floating: true, array: Float64Array },
  // Node 20 has no Float16Array: half types are read out as float32.
  float16: { bytes: 2, floating: true, array: Float32Array },
  bfloat16: { bytes: 2, floating: true, array: Float32Array },
  int64: { bytes: 8, floating: false, array: BigInt64Array },
  int32: { bytes: 4, floating: false, array: Int32Array },
  int16: { bytes: 2, floating: false, array: Int16Array },
  int8: { bytes: 1, floating: false, array: Int8Array },
  uint8: { bytes: 1, floating: false, array: Uint8Array },
  bool: { bytes: 1, floating: false, array: Uint8Array },
};

export const ALL_DTYPES = Object.keys(INFO) as DType[];

export function isDType(v: unknown): v is DType {
  return typeof v === 'string' && v in DTYPES;
}

export function dtypeCode(d: DType): number {
  const code = DTYPES[d];
  if (code === undefined) throw new TypeError(`'${String(d)}' is not a dtype (one of ${ALL_DTYPES.join(', ')})`);
  return code;
}

export function dtypeName(code: number): DType {
  const name = DTYPES_BY_CODE.get(code);
  if (name === undefined) throw new TypeError(`LibTorch returned dtype code ${code}, which Tessera does not support`);
  return name;
}

export function dtypeInfo(d: DType): DTypeInfo {
  return INFO[d];
}

export function isFloatingPoint(d: DType): boolean {
  return INFO[d].floating;
}

/** The dtype a TypedArray holds by default when passed to `tensor()`. */
export function dtypeOfArray(a: ArrayBufferView): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof BigInt64Array) return 'int64';
  throw new TypeError(`${a.constructor.name} has no matching dtype (use Float32Array, Float64Array, Int32Array, Int16Array, Int8Array, Uint8Array or BigInt64Array)`);
}
