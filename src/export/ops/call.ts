// What a mapping sees of one traced op call, and what it gives back. A mapping turns one LibTorch
// entry point (by its native name, e.g. `conv2d`, `add$Tensor`) into ONNX nodes; the tracer calls
// it only when at least one tensor argument was computed from the model's input (calls on
// constants alone are folded: their results become constants).
import type { DType } from '../../tensor/dtype.js';
import type { Attrs, Value } from '../graph.js';

/** A constant tensor argument's values (as float64, whatever its dtype). */
export interface Constant {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly values: Float64Array;
}

export interface OpCall {
  /** The native entry point, e.g. `conv2d`, `add_$Tensor`. */
  readonly op: string;
  readonly opset: number;
  /** The call's real results as LibTorch computed them (one per returned tensor). */
  readonly results: readonly { readonly dtype: DType; readonly shape: readonly number[] }[];

  /** An argument's schema type: `Tensor`, `Tensor?`, `Tensor[]`, `Scalar`, `int[2]`, … */
  typeOf(name: string): string;
  /** A non-tensor argument by its schema name; undefined or null when left to its default. */
  arg(name: string): unknown;
  /** Whether an optional tensor argument was given. */
  has(name: string): boolean;
  /** A tensor argument as a graph value; a constant one becomes an initializer. */
  input(name: string): Value;
  /** A Tensor[] argument. */
  inputList(name: string): Value[];
  /** The values of a constant tensor argument (or of element `index` of a Tensor[] one), or null when computed from the input. */
  valuesOf(name: string, index?: number): Constant | null;

  /** Emits a node with one output; returns the output's name. */
  node(opType: string, inputs: readonly string[], attrs?: Attrs): string;
  /** Emits a node with several outputs. */
  nodes(opType: string, inputs: readonly string[], outputs: number, attrs?: Attrs): string[];
  /** A constant from JS numbers. */
  constant(dtype: DType, shape: readonly number[], values: readonly number[]): string;
  /** A 1-D int64 constant: shapes, axes, pads, sizes. */
  ints(values: readonly number[]): string;
  /** `name` converted from `from` to `to` (no node when they are equal). */
  cast(name: string, from: DType, to: DType): string;
  /** Throws the export error for this call, naming the op and the module path. */
  fail(reason: string): never;
}

/**
 * One result of a mapping: a value name (its batch axis is inferred), a name with the batch axis
 * stated, or null for a result the graph does not compute (max pooling's indices): using it later
 * is an export error.
 */
export type Output = string | { readonly name: string; readonly batchAxis: number | null } | null;

export type Mapping = (c: OpCall) => Output | Output[];

/** An `int[N]` argument as a list: LibTorch accepts one number for all N, or omits it for `def`. */
export function intList(v: unknown, n: number, def: readonly number[]): number[] {
  if (v === undefined || v === null) return [...def];
  if (typeof v === 'number') return Array.from({ length: n }, () => v);
  const list = [...(v as readonly number[])];
  return list.length === 1 && n > 1 ? Array.from({ length: n }, () => list[0] as number) : list;
}

/** A scalar argument as a number (booleans and bigints too). */
export function num(v: unknown, def: number): number {
  if (v === undefined || v === null) return def;
  return Number(v);
}

/** A dimension argument made non-negative for a tensor of rank `rank`. */
export function axis(d: unknown, rank: number, def = 0): number {
  const v = num(d, def);
  return v < 0 ? v + rank : v;
}
