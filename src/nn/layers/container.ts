// Containers: Sequential, ModuleList, ModuleDict. Children are registered under '0', '1', … (or
// their keys), so state dict paths read `features.0.weight` exactly as in PyTorch. A container's
// items are its registered children themselves, so replacing one by path (`setSubmodule`) is seen by
// its forward and its iteration alike.
import type { Tensor } from '../../tensor/tensor.js';
import { Module, type UnaryModule } from '../module.js';

/** What a Sequential holds: modules mapping one tensor to one tensor. */
export type Layer = UnaryModule;

/** A list of child modules named by position; indexable (negative from the end) and iterable. */
abstract class IndexedContainer<M extends Module> extends Module {
  /** The children, in order. Only M is ever registered here, and never null. */
  #items(): M[] {
    return [...this.childTable().values()] as M[];
  }

  get length(): number {
    return this.childTable().size;
  }

  /** The i-th module (negative: from the end), like PyTorch's `seq[i]`. */
  at(i: number): M {
    const m = this.#items().at(i);
    if (m === undefined) throw new RangeError(`index ${i} is out of range for ${this.constructor.name} of length ${this.length}`);
    return m;
  }

  append(m: M): this {
    this.registerModule(String(this.length), m);
    return this;
  }

  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  /** Inserts at `index`, shifting later modules up one position (their keys renumber, as in PyTorch). */
  insert(index: number, m: M): this {
    const items = this.#items();
    const keys = [...this.childTable().keys()];
    const n = items.length;
    const i = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    items.splice(i, 0, m);
    // Existing keys take their new module in place (keeping their position in the table); key n is new.
    items.forEach((x, k) => {
      if (k < n) this.setSubmodule(keys[k] as string, x);
      else this.registerModule(String(k), x);
    });
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items()[Symbol.iterator]();
  }

  /** A container of the modules in [start, end), sharing them and keeping their keys (PyTorch's slice). */
  protected sliceInto<C extends IndexedContainer<M>>(out: C, start?: number, end?: number): C {
    for (const [key, m] of [...this.childTable()].slice(start, end)) out.registerModule(key, m as M);
    return out;
  }
}

/** Chains layers: forward(x) = layer_n(…layer_1(layer_0(x))). */
export class Sequential extends IndexedContainer<Layer> {
  /** `new Sequential(a, b, c)` names children '0', '1', '2'; `new Sequential({conv: a, act: b})` uses the keys. */
  constructor(...layers: Layer[] | [Record<string, Layer>]) {
    super();
    const [first] = layers;
    if (layers.length === 1 && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first as Record<string, Layer>)) this.registerModule(k, m);
    } else {
      for (const m of layers as Layer[]) this.append(m);
    }
  }

  /** (…) → (…): each layer's output is the next one's input */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this) y = m.forward(y);
    return y;
  }

  /** Layers [start, end) as a new Sequential sharing them (keys kept, as `seq[1:3]` in PyTorch). */
  slice(start?: number, end?: number): Sequential {
    return this.sliceInto(new Sequential(), start, end);
  }
}

/** A list of submodules (registered, so their parameters count); it has no forward of its own. */
export class ModuleList<M extends Module = Module> extends IndexedContainer<M> {
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  forward(): never {
    throw new Error('ModuleList has no forward: iterate over it and call its modules');
  }

  slice(start?: number, end?: number): ModuleList<M> {
    return this.sliceInto(new ModuleList<M>(), start, end);
  }
}

/** Submodules by name, in insertion order; no forward of its own. */
export class ModuleDict<M extends Module = Module> extends Module {
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  /** Only M is ever registered here, and never null. */
  #table(): ReadonlyMap<string, M> {
    return this.childTable() as ReadonlyMap<string, M>;
  }

  get size(): number {
    return this.#table().size;
  }

  get(key: string): M {
    const m = this.#table().get(key);
    if (m === undefined) throw new RangeError(`ModuleDict has no module '${key}' (keys: ${[...this.#table().keys()].join(', ')})`);
    return m;
  }

  has(key: string): boolean {
    return this.#table().has(key);
  }

  /** Adds or replaces (a replaced key keeps its position, as in a Python dict). */
  set(key: string, m: M): this {
    if (this.has(key)) this.setSubmodule(key, m);
    else this.registerModule(key, m);
    return this;
  }

  keys(): IterableIterator<string> {
    return this.#table().keys();
  }

  values(): IterableIterator<M> {
    return this.#table().values();
  }

  entries(): IterableIterator<[string, M]> {
    return this.#table().entries();
  }

  [Symbol.iterator](): IterableIterator<[string, M]> {
    return this.#table().entries();
  }

  forward(): never {
    throw new Error('ModuleDict has no forward: call its modules by key');
  }
}
