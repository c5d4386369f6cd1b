// Values as both sides of the conformance harness see them: generated inputs (a pure function of
// row, input name and dtype), Tessera outputs read back into plain JS, and the JSON wire format
// shared with reference.py (NaN, ±Infinity and unsafe integers travel as strings).
import { isFloatingPoint, tensor, Tensor, type DType } from '../../src/index.js';
import { hashString, makeRng, normal, type OpOutput, type OpRow } from './spec.js';

// ---- values as both sides describe them ----

export type Value =
  | { kind: 'tensor'; dtype: string; shape: number[]; values: (number | bigint)[]; requiresGrad?: boolean }
  | { kind: 'list'; items: Value[] }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'dtype'; value: string }
  | { kind: 'str'; value: string }
  | { kind: 'none' };

/** A tensor as it crosses to Python: NaN, ±Infinity and unsafe integers travel as strings. */
export interface WireTensor {
  dtype: DType;
  shape: number[];
  values: (number | string)[];
}

export type WireValue =
  | ({ kind: 'tensor'; requiresGrad?: boolean } & Omit<WireTensor, 'values'> & { values: (number | string | boolean)[] })
  | { kind: 'list'; items: WireValue[] }
  | { kind: 'number'; value: number | string }
  | { kind: 'bool' | 'dtype' | 'str'; value: never }
  | { kind: 'none' };

export interface GeneratedInput {
  name: string;
  dtype: DType;
  shape: number[];
  values: number[];
  grad: boolean;
}

/** What one side computed for one case. */
export interface SideResult {
  out?: Value;
  grads?: Record<string, Value | null>;
  /** The forward pass failed. */
  error?: string;
  /** The forward pass worked but the gradients could not be computed. */
  gradError?: string;
}

export interface TesseraResult extends SideResult {
  /** Native entry points called by the row's callable (null: tracing unavailable). */
  calls: string[] | null;
  /** Indices (in the flattened output) of the outputs that require grad, and their weights. */
  weights: [number, WireTensor][];
}

// ---- inputs ----

const HALF = new Set<DType>(['float16', 'bfloat16']);
const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-(2 ** 53), 2 ** 53],
};

/** Rounds a generated value to one the dtype holds exactly, so both sides build the same tensor. */
function representable(v: number, dtype: DType): number {
  if (dtype === 'bool') return v ? 1 : 0;
  if (!Number.isFinite(v)) return isFloatingPoint(dtype) ? v : 0;
  if (dtype === 'float64') return v;
  if (dtype === 'float32') return Math.fround(v);
  if (HALF.has(dtype)) {
    // 8 significant bits: exact in bfloat16 and float16 alike.
    if (v === 0) return 0;
    const e = Math.floor(Math.log2(Math.abs(v))) - 7;
    return Math.round(v / 2 ** e) * 2 ** e;
  }
  const r = Math.round(v);
  const range = INT_RANGE[dtype];
  return range ? Math.min(range[1], Math.max(range[0], r)) : r;
}

/** The inputs of a case: a pure function of (row name, input name, dtype). */
export function generateInputs(row: OpRow, dtype: DType): GeneratedInput[] {
  return Object.entries(row.inputs).map(([name, spec]) => {
    const d = spec.dtype ?? dtype;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const rng = makeRng(hashString(`${row.name}/${name}`));
    const gen = spec.gen ?? normal();
    const raw = gen(n, rng, d);
    if (raw.length !== n) throw new Error(`${row.name}: generator of input '${name}' made ${raw.length} values for shape [${spec.shape.join(', ')}]`);
    return { name, dtype: d, shape: [...spec.shape], values: raw.map((v) => representable(v, d)), grad: spec.grad !== false };
  });
}

const ARRAYS: Record<DType, (v: number[]) => ArrayBufferView> = {
  float32: (v) => Float32Array.from(v),
  float64: (v) => Float64Array.from(v),
  float16: (v) => Float32Array.from(v),
  bfloat16: (v) => Float32Array.from(v),
  int64: (v) => BigInt64Array.from(v, (x) => BigInt(x)),
  int32: (v) => Int32Array.from(v),
  int16: (v) => Int16Array.from(v),
  int8: (v) => Int8Array.from(v),
  uint8: (v) => Uint8Array.from(v),
  bool: (v) => Uint8Array.from(v),
};

export function makeTensor(input: Pick<GeneratedInput, 'dtype' | 'shape' | 'values'>, requiresGrad: boolean): Tensor {
  const t = tensor(ARRAYS[input.dtype](input.values), { shape: input.shape, dtype: input.dtype });
  if (requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Inputs differentiated in a case: floating inputs of a `grad` row, in a floating case dtype. */
export function gradInputs(row: OpRow, dtype: DType, inputs: GeneratedInput[]): GeneratedInput[] {
  if (!row.grad || !isFloatingPoint(dtype)) return [];
  return inputs.filter((i) => i.grad && isFloatingPoint(i.dtype));
}

// ---- encoding ----

function wireNumber(v: number): number | string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v;
}

export function toWire(input: { dtype: DType; shape: number[]; values: number[] }): WireTensor {
  return { dtype: input.dtype, shape: input.shape, values: input.values.map(wireNumber) };
}

export function tensorValue(t: Tensor): Value {
  const data = t.data();
  const values: (number | bigint)[] = data instanceof BigInt64Array ? Array.from(data) : Array.from(data as ArrayLike<number>);
  return { kind: 'tensor', dtype: t.dtype, shape: t.shape, values, requiresGrad: t.requiresGrad };
}

const DTYPE_NAMES = new Set<string>(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

export function encodeOutput(v: OpOutput): Value {
  if (v instanceof Tensor) return tensorValue(v);
  if (Array.isArray(v)) return { kind: 'list', items: v.map((x: OpOutput) => encodeOutput(x)) };
  switch (typeof v) {
    case 'number':
      return { kind: 'number', value: v };
    case 'bigint':
      return { kind: 'number', value: Number(v) };
    case 'boolean':
      return { kind: 'bool', value: v };
    case 'string':
      return DTYPE_NAMES.has(v) ? { kind: 'dtype', value: v } : { kind: 'str', value: v };
    case 'undefined':
      return { kind: 'none' };
    default:
      if (v === null) return { kind: 'none' };
      throw new TypeError(`the row returned a ${typeof v}, which the harness cannot compare`);
  }
}

export function fromWire(w: WireValue): Value {
  switch (w.kind) {
    case 'tensor': {
      const int64 = w.dtype === 'int64';
      const values = w.values.map((x) => {
        if (typeof x === 'boolean') return x ? 1 : 0;
        if (int64) return BigInt(x);
        if (typeof x === 'string') return x === 'nan' ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : Number(x);
        return x;
      });
      return { kind: 'tensor', dtype: w.dtype, shape: w.shape, values, ...(w.requiresGrad === undefined ? {} : { requiresGrad: w.requiresGrad }) };
    }
    case 'list':
      return { kind: 'list', items: w.items.map(fromWire) };
    case 'number':
      return { kind: 'number', value: typeof w.value === 'string' ? Number(w.value === 'inf' ? Infinity : w.value === '-inf' ? -Infinity : w.value === 'nan' ? NaN : w.value) : w.value };
    default:
      return w as Value;
  }
}

/** The tensors of an output in depth-first order (the order weights are indexed by). */
export function flattenOutput(v: OpOutput, out: Tensor[] = []): Tensor[] {
  if (v instanceof Tensor) out.push(v);
  else if (Array.isArray(v)) for (const x of v as OpOutput[]) flattenOutput(x, out);
  return out;
}

/** The fixed weight w_k of output k: never zero, signs mixed, exact in every floating dtype. */
export function weightValues(n: number, k: number): number[] {
  return Array.from({ length: n }, (_, i) => (((i * 7 + k * 3) % 11) - 5.5) / 4);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
