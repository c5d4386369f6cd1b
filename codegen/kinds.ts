// Translate: schema types → the closed set of argument kinds both emitters understand.
// Each kind says how a JS value is checked and passed (TypeScript side) and how the native side
// converts it to the C++ type that ATen's API takes (see native/csrc/convert.h).
import type { SchemaArg, SchemaReturn } from './schema.js';

export type ArgKind =
  | { k: 'Tensor' }
  | { k: 'OptTensor' }
  | { k: 'TensorList' }
  | { k: 'OptTensorList' }
  | { k: 'Int' }
  | { k: 'OptInt' }
  | { k: 'IntList'; fixed: number }
  | { k: 'OptIntList'; fixed: number }
  | { k: 'Double' }
  | { k: 'OptDouble' }
  | { k: 'OptDoubleList' }
  | { k: 'Bool' }
  | { k: 'OptBool' }
  | { k: 'BoolArray'; fixed: number }
  | { k: 'Scalar' }
  | { k: 'OptScalar' }
  | { k: 'ScalarList' }
  | { k: 'ScalarType' }
  | { k: 'OptScalarType' }
  | { k: 'OptLayout' }
  | { k: 'Device' }
  | { k: 'OptDevice' }
  | { k: 'MemoryFormat' }
  | { k: 'OptMemoryFormat' }
  | { k: 'String' }
  | { k: 'OptString' }
  | { k: 'Reduction' }
  /** Generator? — not exposed to JS: ops always use the (seedable) default generator. */
  | { k: 'Generator' };

export type ReturnKind = 'Tensor' | 'TensorList' | 'Bool' | 'Int' | 'Double' | 'Scalar' | 'ScalarType';

/** Returns undefined for types Tessera does not bind (Dimname, Storage, Stream, ...). */
export function argKind(arg: SchemaArg): ArgKind | undefined {
  const t = arg.type.replace(/SymInt/g, 'int');
  // `int reduction=Mean` is an enum in disguise; it crosses as the named Reduction enum.
  if (t === 'int' && arg.name === 'reduction') return { k: 'Reduction' };
  const list = /^int\[(\d*)\](\?)?$/.exec(t);
  if (list) {
    const fixed = Number(list[1] || 0);
    return list[2] ? { k: 'OptIntList', fixed } : { k: 'IntList', fixed };
  }
  const bools = /^bool\[(\d+)\]$/.exec(t);
  if (bools) return { k: 'BoolArray', fixed: Number(bools[1]) };
  const table: Record<string, ArgKind> = {
    Tensor: { k: 'Tensor' },
    'Tensor?': { k: 'OptTensor' },
    'Tensor[]': { k: 'TensorList' },
    'Tensor?[]': { k: 'OptTensorList' },
    int: { k: 'Int' },
    'int?': { k: 'OptInt' },
    float: { k: 'Double' },
    'float?': { k: 'OptDouble' },
    'float[]?': { k: 'OptDoubleList' },
    bool: { k: 'Bool' },
    'bool?': { k: 'OptBool' },
    Scalar: { k: 'Scalar' },
    'Scalar?': { k: 'OptScalar' },
    'Scalar[]': { k: 'ScalarList' },
    ScalarType: { k: 'ScalarType' },
    'ScalarType?': { k: 'OptScalarType' },
    'Layout?': { k: 'OptLayout' },
    Device: { k: 'Device' },
    'Device?': { k: 'OptDevice' },
    MemoryFormat: { k: 'MemoryFormat' },
    'MemoryFormat?': { k: 'OptMemoryFormat' },
    str: { k: 'String' },
    'str?': { k: 'OptString' },
    'Generator?': { k: 'Generator' },
  };
  return table[t];
}

export function returnKind(r: SchemaReturn): ReturnKind | undefined {
  const table: Record<string, ReturnKind> = {
    Tensor: 'Tensor',
    'Tensor[]': 'TensorList',
    bool: 'Bool',
    int: 'Int',
    SymInt: 'Int',
    float: 'Double',
    Scalar: 'Scalar',
    ScalarType: 'ScalarType',
  };
  return table[r.type];
}

/** Whether a JS caller may omit the argument (it has a default, or is optional-typed). */
export function isOptional(arg: SchemaArg, kind: ArgKind): boolean {
  return arg.default !== undefined || kind.k === 'Generator';
}
