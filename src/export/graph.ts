// The exporter's graph: what the trace builds and the passes rewrite before it is written as an ONNX
// ModelProto (proto.ts). Values are named by strings as in ONNX; constants (weights, buffers, and
// whatever the forward computed from them alone) are initializers holding their bytes.
import { dtypeInfo, type DType } from '../tensor/dtype.js';

/** A tensor flowing through the graph: its name, element type and the shape it had in the trace. */
export interface Value {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** The axis that follows the input's batch size (exported as a symbolic dimension), or null. */
  readonly batchAxis: number | null;
}

/** A constant tensor: row-major little-endian bytes, as ONNX's raw_data. */
export interface Initializer {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** A typed ONNX attribute (ONNX tells INT from FLOAT; a JS number alone cannot). */
export type Attr =
  | { readonly type: 'int'; readonly value: number }
  | { readonly type: 'float'; readonly value: number }
  | { readonly type: 'ints'; readonly value: readonly number[] }
  | { readonly type: 'floats'; readonly value: readonly number[] }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'strings'; readonly value: readonly string[] };

export type Attrs = Readonly<Record<string, Attr>>;

export const attr = {
  int: (value: number | boolean): Attr => ({ type: 'int', value: Number(value) }),
  float: (value: number): Attr => ({ type: 'float', value }),
  ints: (value: readonly number[]): Attr => ({ type: 'ints', value }),
  floats: (value: readonly number[]): Attr => ({ type: 'floats', value }),
  string: (value: string): Attr => ({ type: 'string', value }),
  strings: (value: readonly string[]): Attr => ({ type: 'strings', value }),
};

export interface Node {
  readonly opType: string;
  /** Input value names; '' for an omitted optional input. */
  inputs: string[];
  outputs: string[];
  readonly attrs: Attrs;
  /** Unique node name: the module path it was called from, then the op type. */
  readonly name: string;
}

/** The graph under construction. Names are unique across inputs, initializers and node outputs. */
export class Graph {
  readonly inputs: Value[] = [];
  readonly outputs: Value[] = [];
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Initializer>();
  /** The shape each traced value had in the trace (inputs and op results), by name: for passes that reason about channels. */
  readonly shapes = new Map<string, readonly number[]>();
  readonly #used = new Set<string>();
  /** Scalars and small constants made by mappings, shared by value. */
  readonly #smallConstants = new Map<string, string>();

  /** `base`, or `base_1`, `base_2`… if taken. */
  uniqueName(base: string): string {
    let name = base;
    for (let i = 1; this.#used.has(name); i++) name = `${base}_${i}`;
    this.#used.add(name);
    return name;
  }

  addInput(name: string, dtype: DType, shape: readonly number[], batchAxis: number | null): Value {
    const v: Value = { name: this.uniqueName(name), dtype, shape: [...shape], batchAxis };
    this.inputs.push(v);
    this.shapes.set(v.name, v.shape);
    return v;
  }

  /** An initializer under `name` (made unique); checks that the bytes fit the shape. */
  addInitializer(name: string, dtype: DType, shape: readonly number[], data: Uint8Array): string {
    const expected = shape.reduce((a, b) => a * b, 1) * dtypeInfo(dtype).bytes;
    if (data.byteLength !== expected) throw new Error(`initializer ${name}: ${data.byteLength} bytes for ${dtype}[${shape.join(', ')}] (expected ${expected})`);
    const unique = this.uniqueName(name);
    this.initializers.set(unique, { name: unique, dtype, shape: [...shape], data });
    return unique;
  }

  /** A small constant from JS numbers (shared between uses with the same dtype, shape and values). */
  constant(dtype: DType, shape: readonly number[], values: readonly number[]): string {
    const key = `${dtype}[${shape.join(',')}]${values.join(',')}`;
    const known = this.#smallConstants.get(key);
    if (known) return known;
    const name = this.addInitializer(values.length === 1 && shape.length === 0 ? `const_${dtype}_${values[0]}` : 'const', dtype, shape, encode(dtype, values));
    this.#smallConstants.set(key, name);
    return name;
  }

  /** Appends a node; its outputs get fresh names derived from the node's name. */
  addNode(opType: string, inputs: readonly string[], attrs: Attrs, outputs: number, scope: string): Node {
    const name = this.uniqueName(`/${scope}${scope ? '/' : ''}${opType}`);
    const outs = Array.from({ length: outputs }, (_, i) => this.uniqueName(`${name}_output_${i}`));
    const node: Node = { opType, inputs: [...inputs], outputs: outs, attrs, name };
    this.nodes.push(node);
    return node;
  }

  /** Renames a value everywhere (a producing node's output and every use). */
  rename(from: string, to: string): void {
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((x) => (x === from ? to : x));
      n.outputs = n.outputs.map((x) => (x === from ? to : x));
    }
  }
}

/** Little-endian bytes of `values` as `dtype` (the layout of ONNX raw_data). */
export function encode(dtype: DType, values: readonly number[]): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'float32': return bytesOf(Float32Array.from(values));
    case 'float64': return bytesOf(Float64Array.from(values));
    case 'int64': return bytesOf(BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))));
    case 'int32': return bytesOf(Int32Array.from(values));
    case 'int16': return bytesOf(Int16Array.from(values));
    case 'int8': return bytesOf(Int8Array.from(values));
    case 'uint8': return Uint8Array.from(values);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
    default: throw new Error(`cannot encode ${n} values as ${dtype}`);
  }
}

/** The elements of an initializer as JS numbers (for the passes that compute with constants). */
export function decode(init: Pick<Initializer, 'dtype' | 'data'>): Float64Array {
  const { buffer, byteOffset, byteLength } = init.data;
  const copy = buffer.slice(byteOffset, byteOffset + byteLength); // typed views need aligned offsets
  switch (init.dtype) {
    case 'float32': return Float64Array.from(new Float32Array(copy));
    case 'float64': return new Float64Array(copy);
    case 'int64': return Float64Array.from(new BigInt64Array(copy), Number);
    case 'int32': return Float64Array.from(new Int32Array(copy));
    case 'int16': return Float64Array.from(new Int16Array(copy));
    case 'int8': return Float64Array.from(new Int8Array(copy));
    case 'uint8':
    case 'bool': return Float64Array.from(new Uint8Array(copy));
    default: throw new Error(`cannot decode ${init.dtype} constants`);
  }
}

export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
