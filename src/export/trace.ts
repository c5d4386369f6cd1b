// Records a model's forward pass as a graph, the way torch.onnx traces: the forward runs once, for
// real, on an example input (eval mode, no grad) while every LibTorch entry point it reaches is
// watched. Every tensor is known by its native handle:
//   - the example inputs and whatever an op computes from them are graph values (dynamic);
//   - everything else is a constant: weights and buffers (initializers named by their state-dict
//     key), tensors the forward builds from JS numbers, and results of ops on constants alone
//     (folded: they are never recorded, their values are read when a dynamic op first uses them).
// An op on a dynamic value goes through its mapping (ops/) to ONNX nodes; an op without one is an
// error naming the op and the module path, which is tracked by wrapping each module's `forward`
// for the length of the trace. Handles are addresses that LibTorch reuses once freed, so the
// tables forget a handle when it is released or born again.
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { dtypeName, type DType } from '../tensor/dtype.js';
import { NATIVE_OP_NAMES } from '../tensor/generated/native-names.js';
import { NATIVE_OP_SIGNATURES } from '../tensor/generated/signatures.js';
import { scope } from '../tensor/memory.js';
import { native, type Handle } from '../tensor/native.js';
import { Tensor } from '../tensor/tensor.js';
import { OnnxExportError } from './errors.js';
import { Graph, attr, decode, type Attrs, type Value } from './graph.js';
import type { Constant, Mapping, OpCall, Output } from './ops/call.js';
import { MAPPINGS } from './ops/index.js';
import { onnxDataType } from './proto.js';

export interface TraceOptions {
  opset: number;
  inputNames: readonly string[];
  /** The axis of each input that is its batch (exported as the symbolic `batch`), or null: fixed. */
  batchAxis: number | null;
  /** The function traced (default the model's forward); it must compute with `model`'s weights, e.g. the inference pass's inferenceForward(model, …). */
  forward?: (...inputs: Tensor[]) => unknown;
}

export interface Traced {
  graph: Graph;
  /** The forward's results, flattened in order (arrays of tensors are allowed). */
  outputs: Value[];
}

type AnyFn = (...args: unknown[]) => unknown;
interface Arg {
  name: string;
  type: string;
}
interface Signature {
  args: Arg[];
  returns: string;
}

/** Ops that draw random numbers: on constants alone they would be frozen into the file as one draw. */
const RANDOM = new Set(['rand', 'randn', 'randint', 'randperm', 'bernoulli', 'bernoulli_', 'normal', 'normal_', 'uniform_', 'exponential_', 'random_', 'multinomial', 'poisson', 'rand_like', 'randn_like']);
const SCALAR_RETURNS = new Set(['Bool', 'Int', 'Double', 'Scalar', 'ScalarType']);
/** In-place ops that change a tensor's shape, not its data: harmless on a view. */
const RESHAPE_IN_PLACE = new Set(['squeeze_', 'unsqueeze_']);
/** A result the graph does not compute (max pooling's indices). */
const UNAVAILABLE = Symbol('unavailable');

const signatures = new Map<string, Signature>();
function signatureOf(op: string): Signature {
  let s = signatures.get(op);
  if (!s) {
    const raw = NATIVE_OP_SIGNATURES[op as keyof typeof NATIVE_OP_SIGNATURES];
    const args = raw.args ? raw.args.split(' ').map((a) => ({ name: a.slice(0, a.indexOf(':')), type: a.slice(a.indexOf(':') + 1) })) : [];
    s = { args, returns: raw.returns };
    signatures.set(op, s);
  }
  return s;
}
const isTensorType = (t: string) => t.startsWith('Tensor');

/** Runs `model.forward(...inputs)` (or `options.forward`) once and returns what it computed, as a graph. */
export function traceModule(model: Module, inputs: readonly Tensor[], options: TraceOptions): Traced {
  return new Tracer(model, options).run(inputs);
}

class Tracer {
  readonly graph = new Graph();
  /** Handles of values computed from the input. */
  readonly #dynamic = new Map<Handle, Value | typeof UNAVAILABLE>();
  /** Handles of constants already written as initializers. */
  readonly #constants = new Map<Handle, Value>();
  /** Weights and buffers: their state-dict names, for the initializers. */
  readonly #names = new Map<Handle, string>();
  readonly #stack: [string, Module][] = [];
  readonly #real = new Map<string, AnyFn>();

  constructor(readonly model: Module, readonly options: TraceOptions) {
    for (const [k, t] of [...model.stateDict(), ...model.namedBuffers()]) if (!this.#names.has(t.handle)) this.#names.set(t.handle, k);
  }

  run(inputs: readonly Tensor[]): Traced {
    const training = [...this.model.modules()].map((m) => [m, m.training] as const);
    const restore: (() => void)[] = [];
    try {
      this.model.eval();
      return noGrad(() =>
        scope(() => {
          const copies = inputs.map((t) => t.detach().clone()); // the forward may work in place
          copies.forEach((t, i) => {
            const name = this.options.inputNames[i] ?? `input_${i}`;
            const b = this.options.batchAxis;
            const value = this.graph.addInput(name, t.dtype, t.shape, b !== null && b < t.ndim ? b : null);
            this.#dynamic.set(t.handle, value);
          });
          restore.push(...this.#wrapForwards(), ...this.#wrapNative());
          const model = this.model as unknown as { forward(...x: Tensor[]): unknown };
          // Ops a caller's function runs outside model.forward (the test-time flip's Slice, Add, Mul) are named as the root module's.
          const result = this.options.forward ? this.options.forward(...copies) : model.forward(...copies);
          restore.splice(0).reverse().forEach((f) => f());
          return { graph: this.graph, outputs: this.#flatten(result).map((t) => this.#valueOf(t.handle, 'the result')) };
        }),
      );
    } finally {
      restore.reverse().forEach((f) => f());
      for (const [m, mode] of training) m.training = mode;
    }
  }

  get path(): [string, Module] {
    return this.#stack[this.#stack.length - 1] ?? ['', this.model];
  }

  fail(op: string, reason: string): never {
    const [path, m] = this.path;
    throw new OnnxExportError(op, path, m.constructor.name, reason);
  }

  /** Each module's forward, wrapped to keep the module stack (restored afterwards). */
  #wrapForwards(): (() => void)[] {
    return [...this.model.namedModules()].map(([path, m]) => {
      const own = Object.getOwnPropertyDescriptor(m, 'forward');
      const forward = (m as unknown as { forward: AnyFn }).forward;
      const stack = this.#stack;
      Object.defineProperty(m, 'forward', {
        configurable: true,
        writable: true,
        value(...args: unknown[]) {
          stack.push([path, m]);
          try {
            return forward.apply(m, args);
          } finally {
            stack.pop();
          }
        },
      });
      return () => (own ? Object.defineProperty(m, 'forward', own) : delete (m as unknown as Record<string, unknown>).forward);
    });
  }

  /** Swaps every native entry point for a recording one; returns how to put them back. */
  #wrapNative(): (() => void)[] {
    const n = native as unknown as Record<string, AnyFn>;
    const swap = (name: string, make: (real: AnyFn) => AnyFn) => {
      const real = n[name] as AnyFn;
      this.#real.set(name, real);
      n[name] = make(real);
      return () => void (n[name] = real);
    };
    const forget = (h: Handle) => this.#forget(h);
    const reading = (name: string) => (real: AnyFn) => (h: unknown, ...rest: unknown[]) => {
      if (this.#dynamic.has(h as Handle)) this.fail(name, 'the forward reads the value of a tensor computed from the input (item/data), so the graph would depend on this one input');
      return real(h, ...rest);
    };
    return [
      ...NATIVE_OP_NAMES.map((op) => swap(op, (real) => (...args: unknown[]) => this.#call(op, real, args))),
      swap('release', (real) => (h: unknown) => {
        forget(h as Handle);
        return real(h);
      }),
      swap('shallowClone', (real) => (h: unknown) => {
        const out = real(h) as Handle;
        forget(out);
        const v = this.#dynamic.get(h as Handle);
        if (v !== undefined) this.#dynamic.set(out, v);
        return out;
      }),
      ...['fromBuffer', 'fromBufferShared', 'getGrad'].map((name) =>
        swap(name, (real) => (...args: unknown[]) => {
          const out = real(...args);
          if (typeof out === 'number') forget(out);
          return out;
        }),
      ),
      swap('copyFromBuffer', (real) => (h: unknown, data: unknown) => {
        forget(h as Handle); // now holds JS data: a constant
        return real(h, data);
      }),
      swap('item', reading('item')),
      swap('toBuffer', reading('toBuffer')),
    ];
  }

  #call(op: string, real: AnyFn, args: unknown[]): unknown {
    const sig = signatureOf(op);
    let dynamic = false;
    sig.args.forEach((a, i) => {
      if (!isTensorType(a.type)) return;
      const v = args[i];
      for (const h of Array.isArray(v) ? v : [v]) if (typeof h === 'number' && this.#dynamic.has(h)) dynamic = true;
    });
    const base = op.split('$')[0] as string;
    const mapping = MAPPINGS[op];
    // Refusals come before the call, so no result handle is left without an owner.
    if (!dynamic && RANDOM.has(base)) this.fail(op, 'the forward draws random numbers; the exported graph would hold one frozen draw');
    if (dynamic && SCALAR_RETURNS.has(sig.returns)) this.fail(op, 'the forward turns a tensor computed from the input into a JS value, so the graph would depend on this one input');
    if (dynamic && !mapping) this.fail(op, RANDOM.has(base) ? 'random ops have no ONNX export' : 'no ONNX mapping for this op');
    // The graph binds an in-place result to the written tensor only; a view's base would keep its old value.
    if (dynamic && sig.returns === 'self' && !RESHAPE_IN_PLACE.has(base) && native.describe(args[0] as Handle).isView)
      this.fail(op, 'the forward writes in place into a view of another tensor, and the graph cannot carry the write back into it; use the out-of-place op');
    const result = real(...args);
    const handles: Handle[] = sig.returns === 'self' ? [args[0] as Handle] : sig.returns === 'Tensor' ? [result as Handle] : sig.returns === 'TensorTuple' || sig.returns === 'TensorList' ? (result as Handle[]) : [];
    if (!dynamic) {
      handles.forEach((h) => this.#forget(h)); // constants (folded), read when a dynamic op first uses them
      return result;
    }
    let outs: Output[];
    try {
      const call = new Call(this, op, sig, args, handles);
      const produced = (mapping as Mapping)(call); // checked above
      outs = Array.isArray(produced) ? produced : [produced];
      if (outs.length !== handles.length) throw new Error(`ONNX mapping for ${op} gave ${outs.length} outputs for ${handles.length} results`);
      handles.forEach((h, i) => {
        const out = outs[i] as Output;
        const r = call.results[i] as { dtype: DType; shape: readonly number[] };
        this.#constants.delete(h);
        if (out === null) return void this.#dynamic.set(h, UNAVAILABLE);
        const name = typeof out === 'string' ? out : out.name;
        this.graph.shapes.set(name, r.shape);
        this.#dynamic.set(h, { name, dtype: r.dtype, shape: r.shape, batchAxis: typeof out === 'string' ? call.inferBatchAxis(r.shape) : out.batchAxis });
      });
    } catch (e) {
      if (sig.returns !== 'self') handles.forEach((h) => (this.#real.get('release') as AnyFn)(h)); // no Tensor will own them
      throw e;
    }
    return result;
  }

  /** The graph value behind a handle: dynamic, or a constant (written as an initializer once). */
  valueOf(h: Handle, what: string, op: string): Value {
    const v = this.#dynamic.get(h);
    if (v === UNAVAILABLE) this.fail(op, `${what} is a result the export does not compute (max pooling's indices)`);
    if (v) return v;
    const known = this.#constants.get(h);
    if (known) return known;
    const dtype = dtypeName(native.dtype(h));
    if (dtype === 'float16' || dtype === 'bfloat16') this.fail(op, `${dtype} constants are not supported yet: export a float32 model (model.to('float32'))`);
    const shape = native.shape(h);
    const toBuffer = this.#real.get('toBuffer') ?? native.toBuffer;
    const data = new Uint8Array(toBuffer(h) as ArrayBuffer);
    const name = this.graph.addInitializer(this.#names.get(h) ?? 'const', dtype, shape, data);
    const value: Value = { name, dtype, shape, batchAxis: null };
    this.#constants.set(h, value);
    return value;
  }

  /** A handle released, or born again: whatever it held is gone. */
  #forget(h: Handle): void {
    this.#dynamic.delete(h);
    this.#constants.delete(h);
  }

  isDynamic(h: Handle): boolean {
    return this.#dynamic.has(h);
  }

  #valueOf(h: Handle, what: string): Value {
    return this.valueOf(h, what, 'forward');
  }

  #flatten(result: unknown): Tensor[] {
    if (result instanceof Tensor) return [result];
    if (Array.isArray(result)) return result.flatMap((r) => this.#flatten(r));
    return this.fail('forward', `the forward returned ${result === null ? 'null' : typeof result}; export takes a Tensor or (nested) arrays of Tensors`);
  }
}

/** One op call as its mapping sees it (see ops/call.ts). */
class Call implements OpCall {
  readonly results: { dtype: DType; shape: readonly number[] }[];
  readonly #dynamicInputs: Value[] = [];

  constructor(readonly tracer: Tracer, readonly op: string, readonly sig: Signature, readonly args: unknown[], handles: Handle[]) {
    this.results = handles.map((h) => ({ dtype: dtypeName(native.dtype(h)), shape: native.shape(h) }));
    sig.args.forEach((a, i) => {
      if (!isTensorType(a.type)) return;
      const v = args[i];
      for (const h of Array.isArray(v) ? v : [v]) if (typeof h === 'number' && tracer.isDynamic(h)) this.#dynamicInputs.push(tracer.valueOf(h, a.name, op));
    });
  }

  get opset(): number {
    return this.tracer.options.opset;
  }

  #index(name: string): number {
    const i = this.sig.args.findIndex((a) => a.name === name);
    if (i < 0) throw new Error(`ONNX mapping for ${this.op} asked for '${name}', which the schema does not have`);
    return i;
  }

  typeOf(name: string): string {
    return (this.sig.args[this.#index(name)] as Arg).type;
  }

  arg(name: string): unknown {
    return this.args[this.#index(name)];
  }

  has(name: string): boolean {
    const v = this.arg(name);
    return v !== undefined && v !== null;
  }

  input(name: string): Value {
    const h = this.arg(name);
    if (typeof h !== 'number') this.fail(`argument '${name}' is missing`);
    return this.tracer.valueOf(h, `argument '${name}'`, this.op);
  }

  inputList(name: string): Value[] {
    return (this.arg(name) as Handle[]).map((h, i) => this.tracer.valueOf(h, `argument '${name}'[${i}]`, this.op));
  }

  valuesOf(name: string, index?: number): Constant | null {
    const arg = this.arg(name);
    const h = (index === undefined ? arg : (arg as Handle[])[index]) as Handle;
    if (this.tracer.isDynamic(h)) return null;
    const v = this.tracer.valueOf(h, `argument '${name}'`, this.op);
    const init = this.tracer.graph.initializers.get(v.name);
    if (!init) throw new Error(`ONNX export: constant ${v.name} has no initializer`);
    return { dtype: v.dtype, shape: v.shape, values: decode(init) };
  }

  node(opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.nodes(opType, inputs, 1, attrs)[0] as string;
  }

  nodes(opType: string, inputs: readonly string[], outputs: number, attrs: Attrs = {}): string[] {
    return this.tracer.graph.addNode(opType, inputs, attrs, outputs, this.tracer.path[0]).outputs;
  }

  constant(dtype: DType, shape: readonly number[], values: readonly number[]): string {
    return this.tracer.graph.constant(dtype, shape, values);
  }

  ints(values: readonly number[]): string {
    return this.constant('int64', [values.length], values);
  }

  cast(name: string, from: DType, to: DType): string {
    return from === to ? name : this.node('Cast', [name], { to: attr.int(onnxDataType(to)) });
  }

  fail(reason: string): never {
    return this.tracer.fail(this.op, reason);
  }

  /** A result's batch axis when the mapping does not say: that of the first dynamic input, if the result keeps it. */
  inferBatchAxis(shape: readonly number[]): number | null {
    const first = this.#dynamicInputs.find((v) => v.batchAxis !== null);
    if (!first || first.batchAxis === null) return null;
    const b = first.batchAxis;
    return shape.length === first.shape.length && shape[b] === first.shape[b] ? b : null;
  }
}
