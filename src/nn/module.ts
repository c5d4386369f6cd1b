// Module: the base of every layer and model. Parameters, buffers and child modules are registered
// by name, in order, so `stateDict()` keys are exactly PyTorch's `state_dict` paths
// (`layer1.0.conv1.weight`, `bn.running_mean`, `bn.num_batches_tracked`) and weights move between
// Tessera and PyTorch by key.
//
// Ownership: a module owns its parameters and buffers. They are taken out of every memory scope
// when registered (`persist`), and freed by `module.dispose()`.
import { noGrad } from '../tensor/autograd.js';
import { isFloatingPoint, type DType } from '../tensor/dtype.js';
import { persist, scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export type StateDict = Map<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Thrown by loadStateDict for keys that are missing, unexpected or of the wrong shape. */
export class StateDictError extends Error {
  override name = 'StateDictError';
}

/** A module whose forward maps one tensor to one tensor: most layers. */
export type UnaryModule = Module & { forward(x: Tensor): Tensor };

export abstract class Module {
  /** Train mode (dropout active, batch norm uses batch statistics) or eval mode. */
  training = true;
  readonly #parameters = new Map<string, Tensor | null>();
  readonly #buffers = new Map<string, Tensor | null>();
  readonly #nonPersistent = new Set<string>();
  readonly #modules = new Map<string, Module | null>();

  /** The computation. Subclasses narrow the signature: `forward(x: Tensor): Tensor`. */
  abstract forward(...inputs: never[]): unknown;

  /** One line of configuration shown by toString(), like PyTorch's `extra_repr`. */
  extraRepr(): string {
    return '';
  }

  // ---- registration ----

  /** Registers (or replaces, disposing the old one) a parameter; null declares an absent one (bias=False). */
  registerParameter(name: string, t: Tensor | null): void {
    checkName(name, this);
    const old = this.#parameters.get(name);
    if (old && old !== t) old.dispose();
    if (t) {
      persist(t);
      if (!t.requiresGrad && t.isLeaf) t.requiresGrad_(true);
    }
    this.#parameters.set(name, t);
  }

  /** Registers a buffer (state that is not trained: running statistics, counters). */
  registerBuffer(name: string, t: Tensor | null, options: { persistent?: boolean } = {}): void {
    checkName(name, this);
    const old = this.#buffers.get(name);
    if (old && old !== t) old.dispose();
    if (t) persist(t);
    this.#buffers.set(name, t);
    if (options.persistent === false) this.#nonPersistent.add(name);
    else this.#nonPersistent.delete(name);
  }

  registerModule<M extends Module | null>(name: string, m: M): M {
    checkName(name, this);
    this.#modules.set(name, m);
    return m;
  }

  /** A registered child module by name (throws if absent), typed as a one-tensor layer by default. */
  child<M extends Module = UnaryModule>(name: string): M {
    const m = this.#modules.get(name);
    if (!m) throw new Error(`${this.constructor.name} has no child module '${name}'`);
    return m as M;
  }

  /** The child if registered and not null (e.g. an optional downsample). */
  optionalChild<M extends Module = UnaryModule>(name: string): M | null {
    return (this.#modules.get(name) ?? null) as M | null;
  }

  /** Removes a child module (PyTorch's `del module.name`); returns it, or undefined if absent. */
  deleteModule(name: string): Module | null | undefined {
    const m = this.#modules.get(name);
    this.#modules.delete(name);
    return m;
  }

  /** A registered parameter by name (throws if absent: a typo should not read as `undefined`). */
  param(name: string): Tensor {
    const t = this.#parameters.get(name);
    if (!t) throw new Error(`${this.constructor.name} has no parameter '${name}'`);
    return t;
  }

  /** The parameter if registered and not null (e.g. an optional bias). */
  optionalParam(name: string): Tensor | null {
    return this.#parameters.get(name) ?? null;
  }

  /** The buffer if registered and not null (e.g. an optional class-weight buffer). */
  optionalBuffer(name: string): Tensor | null {
    return this.#buffers.get(name) ?? null;
  }

  buffer(name: string): Tensor {
    const t = this.#buffers.get(name);
    if (!t) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    return t;
  }

  /** Replaces a buffer's tensor (e.g. batch norm's counter); the old one is disposed. */
  setBuffer(name: string, t: Tensor): void {
    if (!this.#buffers.has(name)) throw new Error(`${this.constructor.name} has no buffer '${name}'`);
    this.registerBuffer(name, t, { persistent: !this.#nonPersistent.has(name) });
  }

  // ---- traversal (registration order, as PyTorch) ----

  /** Direct children, each once (a module registered under two names is listed under the first). */
  *namedChildren(): Generator<[string, Module]> {
    const seen = new Set<Module>();
    for (const [n, m] of this.#modules) {
      if (!m || seen.has(m)) continue;
      seen.add(m);
      yield [n, m];
    }
  }

  *children(): Generator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  /** Every module in the tree once, depth first; a module shared by two parents is listed under its first path. */
  *namedModules(prefix = '', memo = new Set<Module>()): Generator<[string, Module]> {
    if (memo.has(this)) return;
    memo.add(this);
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n, memo);
  }

  /** Like namedModules but repeating shared modules under every path: the walk state_dict does. */
  *#allPaths(prefix = ''): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.#modules) if (m) yield* m.#allPaths(prefix ? `${prefix}.${n}` : n);
  }

  *modules(): Generator<Module> {
    for (const [, m] of this.namedModules()) yield m;
  }

  *namedParameters(prefix = '', recurse = true): Generator<[string, Tensor]> {
    const seen = new Set<Tensor>();
    for (const [path, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [n, p] of m.#parameters) {
        if (!p || seen.has(p)) continue; // shared parameters are listed once, as in PyTorch
        seen.add(p);
        yield [path ? `${path}.${n}` : n, p];
      }
    }
  }

  parameters(recurse = true): Tensor[] {
    return [...this.namedParameters('', recurse)].map(([, p]) => p);
  }

  *namedBuffers(prefix = '', recurse = true): Generator<[string, Tensor]> {
    for (const [path, m] of recurse ? this.namedModules(prefix) : [[prefix, this] as [string, Module]]) {
      for (const [n, b] of m.#buffers) if (b) yield [path ? `${path}.${n}` : n, b];
    }
  }

  buffers(recurse = true): Tensor[] {
    return [...this.namedBuffers('', recurse)].map(([, b]) => b);
  }

  // ---- state dicts ----

  /**
   * Parameters then persistent buffers of each module, depth first in registration order: the
   * keys and order of PyTorch's `state_dict()`. The tensors are the module's own (not copies).
   */
  stateDict(): StateDict {
    const out: StateDict = new Map();
    for (const [path, m] of this.#allPaths()) {
      const key = (n: string) => (path ? `${path}.${n}` : n);
      for (const [n, p] of m.#parameters) if (p) out.set(key(n), p);
      for (const [n, b] of m.#buffers) if (b && !m.#nonPersistent.has(n)) out.set(key(n), b);
    }
    return out;
  }

  /**
   * Copies values from `sd` into this module's tensors, by key. With `strict` (the default) any
   * missing or unexpected key is an error naming every such key; a shape mismatch is always an
   * error naming the key and both shapes. Values are converted to each tensor's dtype and device.
   */
  loadStateDict(sd: ReadonlyMap<string, Tensor> | Record<string, Tensor>, options: { strict?: boolean } = {}): LoadResult {
    const strict = options.strict ?? true;
    const source = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !source.has(k));
    const unexpectedKeys = [...source.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [k, t] of own) {
      const v = source.get(k);
      if (v && !sameShape(v.shape, t.shape))
        problems.push(`size mismatch for ${k}: copying a tensor of shape [${v.shape.join(', ')}], the module has [${t.shape.join(', ')}]`);
    }
    if (strict) {
      if (missingKeys.length) problems.push(`missing key(s): ${missingKeys.join(', ')}`);
      if (unexpectedKeys.length) problems.push(`unexpected key(s): ${unexpectedKeys.join(', ')}`);
    }
    if (problems.length) throw new StateDictError(`loadStateDict into ${this.constructor.name}:\n  ${problems.join('\n  ')}`);
    noGrad(() => {
      for (const [k, t] of own) {
        const v = source.get(k);
        if (v) t.copy_(v);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // ---- modes and conversions ----

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Turns gradient tracking on or off for every parameter (freezing a sub-tree). */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** Sets every parameter's gradient to none (PyTorch's default `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Moves or converts every parameter and buffer in place, keeping each Tensor object (PyTorch's
   * `param.data = fn(param.data)`): an optimizer built before `to()` still holds the right
   * tensors. Gradients are converted too. Only floating-point tensors change dtype; integer
   * buffers such as `num_batches_tracked` keep theirs.
   */
  to(target: { device?: string; dtype?: DType } | string): this {
    const t = typeof target === 'string' ? (target.startsWith('cpu') || target.startsWith('cuda') ? { device: target } : { dtype: target as DType }) : target;
    const convert = (x: Tensor): Tensor | null => {
      const dtype = isFloatingPoint(x.dtype) ? t.dtype : undefined;
      if ((dtype === undefined || dtype === x.dtype) && (t.device === undefined || t.device === x.device)) return null;
      return x.to({ ...(dtype ? { dtype } : {}), ...(t.device ? { device: t.device } : {}) });
    };
    noGrad(() =>
      scope(() => {
        for (const m of this.modules()) {
          for (const x of [...m.#parameters.values(), ...m.#buffers.values()]) {
            if (!x) continue;
            const converted = convert(x);
            if (!converted) continue;
            const grad = x.grad;
            x.setData(converted);
            if (grad) x.grad = convert(grad) ?? grad;
          }
        }
      }),
    );
    return this;
  }

  /** Calls fn on every module, children first (PyTorch's `apply`, e.g. for custom init). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** Number of parameter elements (optionally only those that are trained). */
  numParameters(options: { trainableOnly?: boolean } = {}): number {
    return this.parameters()
      .filter((p) => !options.trainableOnly || p.requiresGrad)
      .reduce((n, p) => n + p.numel(), 0);
  }

  /** Frees every parameter and buffer of this module and its children. */
  dispose(): void {
    for (const m of this.modules()) {
      for (const t of [...m.#parameters.values(), ...m.#buffers.values()]) t?.dispose();
      m.#parameters.clear();
      m.#buffers.clear();
    }
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** PyTorch's module repr: `Sequential(\n  (0): Linear(in_features=784, ...)\n)`. */
  toString(): string {
    // Every registered child, shared ones included (PyTorch's repr walks `_modules` as is).
    const children = [...this.#modules].filter((e): e is [string, Module] => e[1] !== null);
    const extra = this.extraRepr();
    if (children.length === 0) return `${this.constructor.name}(${extra})`;
    const lines = children.map(([n, m]) => `  (${n}): ${m.toString().replace(/\n/g, '\n  ')}`);
    return `${this.constructor.name}(${extra ? `\n  ${extra}` : ''}\n${lines.join('\n')}\n)`;
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function checkName(name: string, m: Module): void {
  if (!name || name.includes('.')) throw new Error(`${m.constructor.name}: '${name}' is not a valid name (non-empty, no dots)`);
}

