// Module: the base of every layer and model. Parameters, buffers and child modules are registered
// by name, in order, so `stateDict()` keys are exactly PyTorch's `state_dict` paths
// (`layer1.0.conv1.weight`, `bn.running_mean`, `bn.num_batches_tracked`) and weights move between
// Tessera and PyTorch by key.
//
// Typed fields. A module keeps each part in a typed field, assigned from the call that registers it
// (register* return what they register), and its forward reads the fields:
//
//     readonly conv1: Conv2d;
//     constructor() { super(); this.conv1 = this.registerModule('conv1', new Conv2d(3, 64, 7)); }
//     forward(x: Tensor): Tensor { return this.conv1.forward(x); }
//
// so a misspelt part is a compile error, not a lookup that fails at run time. (A part that needs no
// constructor argument can be a field initializer: `readonly act = this.registerModule('act', new
// ReLU())`.) We register explicitly instead of walking a module's own fields (tinygrad, Equinox)
// because the registry carries what a field cannot: PyTorch's name, which is often not a field name
// (`running_mean`, containers' '0', '1', ResNet's `layer1`…`layer4` made in a loop); PyTorch's
// registration order, which state-dict order follows (JavaScript's field order is declaration
// order, base classes first); parameter vs buffer vs non-persistent buffer; and parts declared
// absent (`bias=False` is a null parameter). The registry is the one source for traversal and state
// dicts; the fields are typed handles on the same objects, and two rules keep them from going
// stale:
// - A name is registered once, and a registered tensor is never swapped for another: new values go in
//   place (`to()`, `loadStateDict`, `copy_`, `setData`), so fields, optimizers and tied modules all
//   keep holding the module's tensor, never a disposed one.
// - A child module may be replaced (`setSubmodule`, e.g. a new classifier head): the parent's fields
//   that held the old child are re-pointed to the new one (ordinary fields: a `#private` one is out
//   of reach, so parts are kept in public or protected fields).
// `getSubmodule('layer1.0.conv1')` stays for what is dynamic by nature (transfer learning by path).
//
// Ownership: a module owns its parameters and buffers. They are taken out of every memory scope
// when registered (`persist`), and freed by `module.dispose()`.
import { noGrad } from '../tensor/autograd.js';
import { isFloatingPoint, type DType } from '../tensor/dtype.js';
import type { MemoryFormat } from '../tensor/generated/enums.js';
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

/** What `Module.to` converts to; a string is a dtype or a device. */
export interface ModuleToOptions {
  device?: string;
  /** Floating-point tensors only: integer buffers such as `num_batches_tracked` keep their dtype. */
  dtype?: DType;
  /** Strides of the 4-D tensors (convolution weights): 'channelsLast' is PyTorch's `channels_last`. */
  memoryFormat?: MemoryFormat;
}

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

  // ---- registration (each returns what it registered, for a typed field) ----

  /** Registers a parameter (it is made to require grad); null declares an absent one (bias=False). */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    this.#checkNewName(name);
    if (t) {
      persist(t);
      if (!t.requiresGrad && t.isLeaf) t.requiresGrad_(true);
    }
    this.#parameters.set(name, t);
    return t;
  }

  /** Registers a buffer (state that is not trained: running statistics, counters); null declares an absent one. */
  registerBuffer<T extends Tensor | null>(name: string, t: T, options: { persistent?: boolean } = {}): T {
    this.#checkNewName(name);
    if (t) persist(t);
    this.#buffers.set(name, t);
    if (options.persistent === false) this.#nonPersistent.add(name);
    return t;
  }

  /** Registers a child module (null declares an absent one, e.g. a block without downsampling). */
  registerModule<M extends Module | null>(name: string, m: M): M {
    this.#checkNewName(name);
    this.#modules.set(name, m);
    return m;
  }

  /**
   * Replaces the child at a dotted path ('fc', 'classifier.1') with `m`, at the same place in the
   * registration order (state-dict keys keep their order), and re-points the parent's fields that
   * held the old child. Returns the old child, not disposed. PyTorch's `set_submodule`. A field
   * keeps its declared type: replace a part with one of the same kind to keep that type true.
   */
  setSubmodule(path: string, m: Module): Module {
    const dot = path.lastIndexOf('.');
    const parent = dot < 0 ? this : this.getSubmodule(path.slice(0, dot));
    return parent.#replaceChild(path.slice(dot + 1), m);
  }

  /** The module at a dotted path ('' is this one), as PyTorch's `get_submodule`: for paths known only at run time. */
  getSubmodule(path: string): Module {
    let m: Module = this;
    if (path === '') return m;
    for (const [i, name] of path.split('.').entries()) {
      const next = m.#modules.get(name);
      if (!next) {
        const at = path.split('.').slice(0, i).join('.');
        throw new Error(`${this.constructor.name} has no submodule '${path}': ${at ? `'${at}' (${m.constructor.name})` : 'it'} has no child '${name}'`);
      }
      m = next;
    }
    return m;
  }

  /** The registered children, null ones included, in order: for containers, whose items they are. */
  protected childTable(): ReadonlyMap<string, Module | null> {
    return this.#modules;
  }

  #checkNewName(name: string): void {
    if (!name || name.includes('.')) throw new Error(`${this.constructor.name}: '${name}' is not a valid name (non-empty, no dots)`);
    const kind = this.#parameters.has(name) ? 'a parameter' : this.#buffers.has(name) ? 'a buffer' : this.#modules.has(name) ? 'a child module' : null;
    if (kind === null) return;
    const remedy = kind === 'a child module'
      ? `replace it with setSubmodule('${name}', m)`
      : 'a registered tensor is changed in place (copy_ for the same shape, setData for any), so the fields and optimizers that hold it stay valid';
    throw new Error(`${this.constructor.name} already has ${kind} named '${name}': ${remedy}`);
  }

  #replaceChild(name: string, m: Module): Module {
    const old = this.#modules.get(name);
    if (old === undefined) throw new Error(`${this.constructor.name} has no child module '${name}' to replace`);
    // A field that holds null cannot be told apart from any other null field, so it could not be re-pointed.
    if (old === null) throw new Error(`${this.constructor.name}: child '${name}' was registered as absent (null) and cannot be replaced`);
    this.#modules.set(name, m);
    const fields = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(this)) if (value === old) fields[key] = m;
    return old;
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
   * `param.data = fn(param.data)`): an optimizer built before `to()`, and the module's own fields,
   * still hold the right tensors. Gradients are converted too. Only floating-point tensors change
   * dtype (integer buffers such as `num_batches_tracked` keep theirs); only 4-D ones change memory
   * format, as in PyTorch.
   */
  to(target: ModuleToOptions | string): this {
    const t: ModuleToOptions = typeof target === 'string' ? (target.startsWith('cpu') || target.startsWith('cuda') ? { device: target } : { dtype: target as DType }) : target;
    const convert = (x: Tensor): Tensor | null => {
      const dtype = isFloatingPoint(x.dtype) && t.dtype !== x.dtype ? t.dtype : undefined;
      const device = t.device !== x.device ? t.device : undefined;
      // Not `isContiguous(format)`: a tensor with one channel (a grey stem's weight) is contiguous in
      // both formats, yet only NHWC strides make its convolution produce an NHWC output. LibTorch's
      // `to` copies unless the strides already suggest the format, as PyTorch's `Module.to` does.
      const memoryFormat = t.memoryFormat !== undefined && x.dim() === 4 ? t.memoryFormat : undefined;
      if (dtype === undefined && device === undefined && memoryFormat === undefined) return null;
      return x.to({ ...(dtype ? { dtype } : {}), ...(device ? { device } : {}), ...(memoryFormat ? { memoryFormat } : {}) });
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
