// The Tensor: one JS object owning exactly one LibTorch tensor reference (a native handle).
// Release is deterministic through `dispose()` / `using`, or through the memory scope the tensor
// was created in; a FinalizationRegistry frees tensors that escaped every scope, as a safety net.
// Ops are generated (generated/ops.ts) and installed as methods by generated/methods.ts.
import { inspect } from 'node:util';

import { dtypeCode, dtypeInfo, dtypeName, isDType, type DType, type TypedArray } from './dtype.js';
import { deviceName, type DeviceLike } from './device.js';
import { DisposedTensorError } from './errors.js';
import { memoryFormatCode } from './codes.js';
import type { MemoryFormat } from './generated/enums.js';
import { adopt, forget, registerTensorClass } from './memory.js';
import { native, type Handle } from './native.js';
import { formatTensor } from './print.js';

export interface ToOptions {
  dtype?: DType;
  device?: DeviceLike;
  /** Return a new tensor even when nothing changes (PyTorch's `copy=True`). */
  copy?: boolean;
  nonBlocking?: boolean;
  memoryFormat?: MemoryFormat;
}

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
  /** Accumulate gradients only into these leaves. */
  inputs?: Tensor[];
}

/** A nested JS array of numbers or booleans, as `toArray()` returns and `tensor()` accepts. */
export type NestedArray<T> = T | NestedArray<T>[];

export class Tensor {
  #h: Handle;
  /** @internal The memory scope that will dispose this tensor (memory.ts), if any. */
  _owner: unknown = undefined;

  /** @internal Tensors are made by ops and factories (`tensor`, `zeros`, ...), not constructed directly. */
  constructor(handle: Handle) {
    if (typeof handle !== 'number' || handle === 0) throw new TypeError('Tensor: invalid native handle');
    this.#h = handle;
    adopt(this);
  }

  /** @internal The native handle (0 once disposed). Only the op layer should read this. */
  get handle(): Handle {
    return this.#h;
  }

  /** Releases this tensor's reference now. Safe to call twice. Views of it stay valid. */
  dispose(): void {
    const h = this.#h;
    if (h === 0) return;
    this.#h = 0;
    forget(this);
    native.release(h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get disposed(): boolean {
    return this.#h === 0;
  }

  #live(): Handle {
    if (this.#h === 0) throw new DisposedTensorError('tensor was disposed', 'Tensor', 'disposed');
    return this.#h;
  }

  // ---- metadata ----

  get shape(): number[] {
    return native.shape(this.#live());
  }

  get dtype(): DType {
    return dtypeName(native.dtype(this.#live()));
  }

  get device(): string {
    return native.device(this.#live());
  }

  get ndim(): number {
    return this.shape.length;
  }

  dim(): number {
    return this.shape.length;
  }

  numel(): number {
    return native.numel(this.#live());
  }

  /** Size of one dimension (negative counts from the end), or the whole shape. */
  size(d?: number): number {
    const s = this.shape;
    if (d === undefined) return s.reduce((a, b) => a * b, 1);
    const i = d < 0 ? d + s.length : d;
    const v = s[i];
    if (v === undefined) throw new RangeError(`size(${d}): tensor has ${s.length} dimensions`);
    return v;
  }

  strides(): number[] {
    return native.strides(this.#live());
  }

  isContiguous(memoryFormat: MemoryFormat = 'contiguous'): boolean {
    const d = native.describe(this.#live());
    return memoryFormat === 'channelsLast' ? d.channelsLast : d.contiguous;
  }

  get isCuda(): boolean {
    return this.device.startsWith('cuda');
  }

  // ---- autograd ----

  get requiresGrad(): boolean {
    return native.requiresGrad(this.#live());
  }

  set requiresGrad(v: boolean) {
    this.requiresGrad_(v);
  }

  /** Sets requiresGrad in place and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(requiresGrad = true): this {
    native['requires_grad_'](this.#live(), requiresGrad);
    return this;
  }

  /**
   * The accumulated gradient, or null. Each read returns a new Tensor handle on the same storage
   * (dispose it, or read it inside a scope).
   */
  get grad(): Tensor | null {
    const g = native.getGrad(this.#live());
    return g === null ? null : new Tensor(g);
  }

  set grad(g: Tensor | null) {
    native.setGrad(this.#live(), g === null ? null : g.handle);
  }

  get isLeaf(): boolean {
    return native.isLeaf(this.#live());
  }

  /** The name of the autograd node that produced this tensor (`AddBackward0`), or null for leaves. */
  get gradFn(): string | null {
    return native.gradFnName(this.#live());
  }

  /** Computes gradients of this tensor w.r.t. graph leaves; `gradient` is required for non-scalars. */
  backward(gradient?: Tensor | null, options: BackwardOptions = {}): void {
    native.backward(
      [this.#live()],
      [gradient ? gradient.handle : null],
      options.retainGraph,
      options.createGraph ?? false,
      options.inputs?.map((t) => t.handle),
    );
  }

  // ---- copies, dtype and device ----

  /** A new Tensor handle on the same TensorImpl (shares data, shape and autograd identity). */
  shallowClone(): Tensor {
    return new Tensor(native.shallowClone(this.#live()));
  }

  /** A copy with its own storage that stays in the autograd graph. */
  clone(options: { memoryFormat?: MemoryFormat } = {}): Tensor {
    const mf = options.memoryFormat === undefined ? undefined : memoryFormatCode(options.memoryFormat);
    return new Tensor(native['clone'](this.#live(), mf) as Handle);
  }

  /** A tensor sharing storage but cut from the autograd graph. */
  detach(): Tensor {
    return new Tensor(native['detach'](this.#live()) as Handle);
  }

  contiguous(memoryFormat: MemoryFormat = 'contiguous'): Tensor {
    return new Tensor(native['contiguous'](this.#live(), memoryFormatCode(memoryFormat)) as Handle);
  }

  /**
   * Converts dtype and/or device: `t.to('float64')`, `t.to('cuda:0')`, `t.to({dtype, device, copy})`.
   * Like PyTorch, returns a new handle on the same data when nothing changes (unless `copy`).
   */
  to(target: DType | DeviceLike | ToOptions): Tensor {
    const o: ToOptions = typeof target === 'string' ? (isDType(target) ? { dtype: target } : { device: target }) : target;
    const h = this.#live();
    const dtype = dtypeCode(o.dtype ?? this.dtype);
    const mf = o.memoryFormat === undefined ? undefined : memoryFormatCode(o.memoryFormat);
    const r = o.device !== undefined
      ? native['to$device'](h, deviceName(o.device), dtype, o.nonBlocking ?? false, o.copy ?? false, mf)
      : native['to$dtype'](h, dtype, o.nonBlocking ?? false, o.copy ?? false, mf);
    return new Tensor(r as Handle);
  }

  cpu(): Tensor {
    return this.to({ device: 'cpu' });
  }

  cuda(index = 0): Tensor {
    return this.to({ device: `cuda:${index}` });
  }

  float(): Tensor {
    return this.to({ dtype: 'float32' });
  }

  double(): Tensor {
    return this.to({ dtype: 'float64' });
  }

  half(): Tensor {
    return this.to({ dtype: 'float16' });
  }

  bfloat16(): Tensor {
    return this.to({ dtype: 'bfloat16' });
  }

  long(): Tensor {
    return this.to({ dtype: 'int64' });
  }

  int(): Tensor {
    return this.to({ dtype: 'int32' });
  }

  bool(): Tensor {
    return this.to({ dtype: 'bool' });
  }

  // ---- shape sugar with PyTorch's varargs spelling ----

  /** `t.view(2, -1)` or `t.view([2, -1])`: a view with a new shape (must be compatible with strides). */
  view(...shape: (number | readonly number[])[]): Tensor {
    return new Tensor(native['view'](this.#live(), flatShape(shape)) as Handle);
  }

  /** `t.expand(4, -1, -1)`: broadcast singleton dimensions without copying. */
  expand(...shape: (number | readonly number[])[]): Tensor {
    return new Tensor(native['expand'](this.#live(), flatShape(shape), false) as Handle);
  }

  // ---- reading values ----

  /**
   * A copy of the elements in row-major order as a TypedArray of the dtype's own width:
   * Float32Array for float32 (and for float16/bfloat16, which JS has no array for),
   * BigInt64Array for int64, Uint8Array for bool and uint8.
   */
  data(): TypedArray {
    const buffer = native.toBuffer(this.#live());
    return new (dtypeInfo(this.dtype).array)(buffer);
  }

  /** The single value of a one-element tensor. */
  item(): number | boolean {
    return native.item(this.#live());
  }

  /** Nested JS arrays of numbers (int64 above 2^53 loses precision) or booleans. */
  toArray(): NestedArray<number | boolean> {
    const shape = this.shape;
    const dtype = this.dtype;
    const flat = this.data();
    const at = (i: number): number | boolean => {
      const v = flat[i] as number | bigint;
      if (dtype === 'bool') return v !== 0;
      return typeof v === 'bigint' ? Number(v) : v;
    };
    if (shape.length === 0) return at(0);
    let offset = 0;
    const build = (d: number): NestedArray<number | boolean> => {
      const n = shape[d] as number;
      const out: NestedArray<number | boolean>[] = [];
      for (let i = 0; i < n; i++) out.push(d === shape.length - 1 ? at(offset++) : build(d + 1));
      return out;
    };
    return build(0);
  }

  toString(): string {
    if (this.#h === 0) return 'tensor(<disposed>)';
    return formatTensor(this);
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function flatShape(shape: (number | readonly number[])[]): number[] {
  if (shape.length === 1 && Array.isArray(shape[0])) return [...(shape[0] as readonly number[])];
  return shape as number[];
}

registerTensorClass(Tensor);
