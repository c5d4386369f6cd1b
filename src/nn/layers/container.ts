// Containers: Sequential, ModuleList, ModuleDict. Children are registered under '0', '1', … (or
// their keys), so state dict paths read `features.0.weight` exactly as in PyTorch.
import type { Tensor } from '../../tensor/tensor.js';
import { Module, type UnaryModule } from '../module.js';

/** A module that maps one tensor to one tensor: what a Sequential can chain. */
/** What a Sequential holds: modules mapping one tensor to one tensor. */
export type Layer = UnaryModule;

/** A list of child modules named by position; indexable (negative from the end) and iterable. */
abstract class IndexedContainer<M extends Module> extends Module {
  #items: M[] = [];
  #keys: string[] = [];

  get length(): number {
    return this.#items.length;
  }

  /** The i-th module (negative: from the end), like PyTorch's `seq[i]`. */
  at(i: number): M {
    const m = this.#items.at(i);
    if (m === undefined) throw new RangeError(`index ${i} is out of range for ${this.constructor.name} of length ${this.length}`);
    return m;
  }

  append(m: M): this {
    return this.add(String(this.length), m);
  }

  extend(ms: Iterable<M>): this {
    for (const m of ms) this.append(m);
    return this;
  }

  /** Inserts at `index`, shifting later modules up one position (their keys renumber, as in PyTorch). */
  insert(index: number, m: M): this {
    const n = this.length;
    const i = index < 0 ? Math.max(0, n + index) : Math.min(index, n);
    const items = [...this.#items.slice(0, i), m, ...this.#items.slice(i)];
    // Re-registering existing keys keeps their position in the module table; key n is new.
    items.forEach((x, k) => this.registerModule(String(k), x));
    this.#items = items;
    this.#keys = items.map((_, k) => String(k));
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.#items[Symbol.iterator]();
  }

  /** A container of the modules in [start, end), sharing them and keeping their keys (PyTorch's slice). */
  protected sliceInto<C extends IndexedContainer<M>>(out: C, start?: number, end?: number): C {
    const keys = this.#keys.slice(start, end);
    this.#items.slice(start, end).forEach((m, k) => out.add(keys[k] as string, m));
    return out;
  }

  protected add(key: string, m: M): this {
    this.registerModule(key, m);
    this.#items.push(m);
    this.#keys.push(key);
    return this;
  }
}

/** Chains layers: forward(x) = layer_n(…layer_1(layer_0(x))). */
export class Sequential extends IndexedContainer<Layer> {
  /** `new Sequential(a, b, c)` names children '0', '1', '2'; `new Sequential({conv: a, act: b})` uses the keys. */
  constructor(...layers: Layer[] | [Record<string, Layer>]) {
    super();
    const [first] = layers;
    if (layers.length === 1 && !(first instanceof Module)) {
      for (const [k, m] of Object.entries(first as Record<string, Layer>)) this.add(k, m);
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
  #items = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? modules : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  get size(): number {
    return this.#items.size;
  }

  get(key: string): M {
    const m = this.#items.get(key);
    if (m === undefined) throw new RangeError(`ModuleDict has no module '${key}' (keys: ${[...this.#items.keys()].join(', ')})`);
    return m;
  }

  has(key: string): boolean {
    return this.#items.has(key);
  }

  /** Adds or replaces (a replaced key keeps its position, as in a Python dict). */
  set(key: string, m: M): this {
    this.registerModule(key, m);
    this.#items.set(key, m);
    return this;
  }

  keys(): IterableIterator<string> {
    return this.#items.keys();
  }

  values(): IterableIterator<M> {
    return this.#items.values();
  }

  entries(): IterableIterator<[string, M]> {
    return this.#items.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, M]> {
    return this.#items.entries();
  }

  forward(): never {
    throw new Error('ModuleDict has no forward: call its modules by key');
  }
}
