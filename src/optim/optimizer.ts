// The Optimizer base: parameter groups, per-parameter state and state dicts. Each optimizer adds
// only its hyperparameters, its state and one call to a pure functional update (sgd.ts → sgd()),
// the structure of PyTorch's torch/optim/*.py.
//
// Memory: step() runs the update under noGrad inside a scope, so every temporary (gradient
// handles, intermediate results) is freed when it returns; state tensors are created inside that
// scope and `persist`ed, and live until the optimizer is disposed or its state is replaced.
import { enableGrad, noGrad } from '../tensor/autograd.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { persist, scope } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';

/** Hyperparameters every group has. */
export interface GroupOptions {
  lr: number;
}

/** A parameter group: its tensors and resolved hyperparameters (PyTorch's `param_groups[i]`). */
export type ParamGroup<O extends GroupOptions> = O & {
  params: Tensor[];
  /** The lr a schedule starts from; set by LR schedulers (PyTorch's `initial_lr`). */
  initialLr?: number;
};

/** A group as given by the user: tensors plus any per-group overrides of the defaults. */
export type GroupInput<O> = { params: Iterable<Tensor> } & Partial<O>;

/** What an optimizer takes: parameters (one group), or groups with per-group options. */
export type ParamsInput<O> = Iterable<Tensor> | readonly GroupInput<O>[];

/** One entry of a parameter's state: a tensor (moments), a number (step counts), or null. */
export type StateValue = Tensor | number | null | undefined;
export type ParamState = Record<string, StateValue>;

/**
 * PyTorch's optimizer `state_dict()` layout: state keyed by the parameter's position across all
 * groups, and groups whose `params` are those positions. Keys are PyTorch's (`exp_avg`,
 * `weight_decay`, `initial_lr`), so the dict maps one to one onto a `.pt` optimizer checkpoint.
 * The tensors are the optimizer's own, not copies (as in PyTorch): save or clone them before the
 * next step changes them.
 */
export interface OptimizerStateDict {
  state: Map<number, Record<string, Tensor | number | null>>;
  param_groups: Array<{ params: number[]; [hyperparameter: string]: unknown }>;
}

export abstract class Optimizer<O extends GroupOptions = GroupOptions, S extends ParamState = ParamState> {
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on a parameter's first step (PyTorch's `optimizer.state`). */
  readonly state = new Map<Tensor, S>();

  constructor(
    params: ParamsInput<O>,
    readonly defaults: Readonly<O>,
  ) {
    const list: readonly (Tensor | GroupInput<O>)[] = [...params];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    if (list.every((x): x is Tensor => x instanceof Tensor)) this.#add([...list], {});
    else
      for (const g of list) {
        if (g instanceof Tensor) throw new TypeError(`${this.constructor.name}: give either tensors or groups ({ params, ...options }), not both`);
        this.addParamGroup(g);
      }
  }

  /** Adds a group (e.g. unfrozen layers while fine-tuning); options it omits take the defaults. */
  addParamGroup(group: GroupInput<O>): void {
    // The overrides still hold `params`; #add writes the materialized list over it.
    this.#add([...group.params], definedOnly<Partial<O>>(group));
  }

  #add(params: Tensor[], overrides: Partial<O>): void {
    for (const p of params) {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: parameters must be Tensors`);
      if (!p.isLeaf) throw new Error(`${this.constructor.name}: can't optimize a non-leaf Tensor`);
    }
    if (new Set(params).size !== params.length) throw new Error(`${this.constructor.name}: a parameter group lists a parameter twice`);
    for (const g of this.paramGroups)
      if (g.params.some((p) => params.includes(p))) throw new Error(`${this.constructor.name}: some parameters appear in more than one parameter group`);
    const resolved: ParamGroup<O> = { ...structuredClone(this.defaults), ...overrides, params } as ParamGroup<O>;
    this.validate(resolved);
    this.paramGroups.push(resolved);
    this.onAddGroup(resolved);
  }

  /**
   * One update of every parameter that has a gradient. With a closure, calls it first with
   * gradients enabled (it recomputes the loss and calls backward) and returns its result.
   */
  step<T = void>(closure?: () => T): T | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    noGrad(() =>
      scope(() => {
        for (const group of this.paramGroups) this.updateGroup(group);
      }),
    );
    return loss;
  }

  /** Clears gradients: to none by default (PyTorch's `set_to_none=True`), else to zeros in place. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (setToNone) {
          p.grad = null;
          continue;
        }
        const g = p.grad;
        if (!g) continue;
        noGrad(() => g.zero_());
        g.dispose();
      }
    }
  }

  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const param_groups = this.paramGroups.map((group) => {
      const { params, ...hyper } = group;
      const ids = params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      });
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(hyper)) packed[snakeCase(k)] = structuredClone(v);
      return { ...packed, params: ids };
    });
    const state = new Map<number, Record<string, Tensor | number | null>>();
    for (const [p, s] of this.state) {
      const entry: Record<string, Tensor | number | null> = {};
      for (const [k, v] of Object.entries(s)) if (v !== undefined) entry[k] = v;
      state.set(index.get(p) as number, entry);
    }
    return { state, param_groups };
  }

  /**
   * Restores state and group hyperparameters saved by `stateDict()` (here or, with the same keys,
   * by PyTorch). The groups must have the same sizes. Tensors are copied, floating-point ones cast
   * to their parameter's dtype and device (except `step`); a one-element tensor under `step` is read
   * as a number (PyTorch ≥ 1.12 keeps step counts as tensors).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (sd.param_groups.length !== this.paramGroups.length)
      throw new Error(`${name}.loadStateDict: ${sd.param_groups.length} parameter groups saved, ${this.paramGroups.length} here`);
    const byIndex = new Map<number, Tensor>();
    sd.param_groups.forEach((saved, i) => {
      const group = this.paramGroups[i] as ParamGroup<O>;
      if (saved.params.length !== group.params.length)
        throw new Error(`${name}.loadStateDict: group ${i} has ${saved.params.length} parameters saved, ${group.params.length} here`);
      saved.params.forEach((id, j) => byIndex.set(id, group.params[j] as Tensor));
    });
    // Hyperparameters: every key this optimizer knows, from the saved group when present. All are
    // checked before anything changes, so a rejected dict leaves the optimizer as it was.
    const merged = sd.param_groups.map((saved, i) => {
      const group = this.paramGroups[i] as ParamGroup<O>;
      const hyper: Record<string, unknown> = {};
      for (const k of [...Object.keys(this.defaults), 'initialLr']) {
        const v = saved[snakeCase(k)];
        if (v !== undefined) hyper[k] = structuredClone(v);
      }
      const candidate = { ...group, ...hyper };
      this.validate(candidate);
      return candidate;
    });
    for (const [id] of sd.state) if (!byIndex.has(id)) throw new Error(`${name}.loadStateDict: state for parameter ${id}, which no group lists`);
    const fresh = new Map<Tensor, S>();
    noGrad(() => {
      for (const [id, saved] of sd.state) {
        const p = byIndex.get(id) as Tensor;
        const entry: ParamState = {};
        for (const [k, v] of Object.entries(saved)) entry[k] = v instanceof Tensor ? castState(p, k, v) : v;
        fresh.set(p, entry as S);
      }
    });
    merged.forEach((m, i) => Object.assign(this.paramGroups[i] as ParamGroup<O>, m));
    this.disposeState();
    for (const [p, s] of fresh) this.state.set(p, s);
  }

  /** Frees the optimizer's state tensors (the parameters belong to their module). */
  dispose(): void {
    this.disposeState();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /** Applies the update to one group (runs under noGrad, inside step()'s scope). */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /** Throws on invalid hyperparameters (PyTorch's constructor checks). */
  protected validate(_group: ParamGroup<O>): void {}

  /** Hook for optimizers whose state exists before the first step (Adagrad). */
  protected onAddGroup(_group: ParamGroup<O>): void {}

  /** The parameters of a group that have gradients, with those gradients (handles freed by step's scope). */
  protected withGrads(group: ParamGroup<O>): { params: Tensor[]; grads: Tensor[] } {
    const params: Tensor[] = [];
    const grads: Tensor[] = [];
    for (const p of group.params) {
      const g = p.grad;
      if (!g) continue;
      params.push(p);
      grads.push(g);
    }
    return { params, grads };
  }

  /** The state of `p`, created by `init` on first use; its tensors are taken out of step's scope. */
  protected stateOf(p: Tensor, init: () => S): S {
    let s = this.state.get(p);
    if (!s) {
      s = init();
      keepState(s);
      this.state.set(p, s);
    }
    return s;
  }

  private disposeState(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }
}

/** Persists every tensor of a state record (state outlives the step that created it). */
export function keepState(s: ParamState): void {
  for (const v of Object.values(s)) if (v instanceof Tensor) persist(v);
}

/** A copy of a saved state tensor for parameter `p` (PyTorch's Optimizer.load_state_dict cast). */
function castState(p: Tensor, key: string, v: Tensor): Tensor | number {
  if (key === 'step') return v.numel() === 1 ? Number(v.item()) : persist(v.clone());
  const dtype = isFloatingPoint(p.dtype) && isFloatingPoint(v.dtype) ? p.dtype : v.dtype;
  return persist(v.to({ dtype, device: p.device, copy: true }));
}

/** `weightDecay` → `weight_decay`: PyTorch's names in state dicts. */
export function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** Drops keys set to undefined, so they fall back to the defaults instead of overriding them. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Element i of a list the caller knows is long enough (the functional updates index parallel lists). */
export function nth<T>(xs: readonly T[], i: number): T {
  if (i >= xs.length) throw new RangeError(`index ${i} past the end of a list of ${xs.length}`);
  return xs[i] as T;
}
