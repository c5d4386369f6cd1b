// Stochastic gradient descent with momentum (PyTorch's torch/optim/sgd.py, single-tensor path).
//
//   g ← ∇θ (−∇θ when maximizing) + λ·θ
//   b ← g                          on the first step
//   b ← μ·b + (1 − τ)·g            afterwards (τ: dampening)
//   g ← g + μ·b  (Nesterov)   or   g ← b
//   θ ← θ − η·g
//
// Two paths compute it: one op per tensor (`sgd`), and one native call per parameter group for each
// line above (`sgdForeach`, LibTorch's `_foreach_*` ops, PyTorch's `_multi_tensor_sgd`). On the CPU
// a `_foreach_*` op runs the same per-tensor kernel for each list element, so the two give identical
// bits (test/optim/foreach.test.ts); the list path only saves the ~5 calls into the addon that each
// parameter costs per step. Measured on a quiet machine it is not faster on the CPU (fashion-net,
// 2 threads: 2,846 against 3,477 steps/s, bench/optimizer-step.ts), so it is opt-in (`foreach: true`).
import { foreachAdd, foreachAdd_, foreachMul_ } from '../tensor/generated/ops.js';
import { persist } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions extends GroupOptions {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
  /**
   * true: one native call per group and line of the update; false or null (PyTorch's key and
   * default, which on the CPU in 1.13 means the same): one op per tensor.
   */
  foreach: boolean | null;
}

/** PyTorch keeps `momentum_buffer: None` for parameters stepped without momentum. */
export type SGDState = { momentum_buffer: Tensor | null };

const DEFAULTS: Omit<SGDOptions, 'lr'> = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, foreach: null };

/**
 * The SGD update of `params` in place. `momentumBuffers[i]` is null before parameter i's first
 * momentum step; the new buffer is written back into the array (as PyTorch's `sgd()` does).
 */
export function sgd(params: Tensor[], grads: Tensor[], momentumBuffers: (Tensor | null)[], o: SGDOptions): void {
  params.forEach((param, i) => {
    let dp = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    if (o.weightDecay !== 0) dp = dp.add(param, { alpha: o.weightDecay });
    if (o.momentum !== 0) {
      let buf = momentumBuffers[i] ?? null;
      if (buf === null) {
        buf = dp.clone(); // under noGrad, so already detached
        momentumBuffers[i] = buf;
      } else {
        buf.mul_(o.momentum).add_(dp, { alpha: 1 - o.dampening });
      }
      dp = o.nesterov ? dp.add(buf, { alpha: o.momentum }) : buf;
    }
    param.add_(dp, { alpha: -o.lr });
  });
}

/** `sgd` with one native call per line of the update for the whole list (same arguments, same bits on the CPU). */
export function sgdForeach(params: Tensor[], grads: Tensor[], momentumBuffers: (Tensor | null)[], o: SGDOptions): void {
  if (params.length === 0) return; // LibTorch's list ops refuse an empty list
  let dps = o.maximize ? grads.map((g) => g.neg()) : grads;
  if (o.weightDecay !== 0) dps = foreachAdd(dps, params, { alpha: o.weightDecay });
  if (o.momentum !== 0) {
    let bufs: Tensor[];
    if (momentumBuffers.length === params.length && momentumBuffers.every((b) => b !== null)) {
      bufs = momentumBuffers as Tensor[];
      foreachMul_(bufs, o.momentum);
      foreachAdd_(bufs, dps, { alpha: 1 - o.dampening });
    } else {
      // A parameter's first momentum step (or one that skipped steps): per tensor, as `sgd` does.
      bufs = dps.map((dp, i) => {
        const buf = momentumBuffers[i] ?? null;
        if (buf === null) return (momentumBuffers[i] = dp.clone());
        buf.mul_(o.momentum).add_(dp, { alpha: 1 - o.dampening });
        return buf;
      });
    }
    dps = o.nesterov ? foreachAdd(dps, bufs, { alpha: o.momentum }) : bufs;
  }
  foreachAdd_(params, dps, { alpha: -o.lr });
}

export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> & { lr: number }) {
    super(params, { ...DEFAULTS, ...definedOnly(options), lr: options.lr });
  }

  protected override validate(g: ParamGroup<SGDOptions>): void {
    if (!(g.lr >= 0)) throw new RangeError(`SGD: invalid learning rate ${g.lr}`);
    if (g.momentum < 0) throw new RangeError(`SGD: invalid momentum ${g.momentum}`);
    if (g.weightDecay < 0) throw new RangeError(`SGD: invalid weightDecay ${g.weightDecay}`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
  }

  protected override updateGroup(group: ParamGroup<SGDOptions>): void {
    const { params, grads } = this.withGrads(group);
    const states = params.map((p) => this.stateOf(p, () => ({ momentum_buffer: null })));
    const buffers = states.map((s) => s.momentum_buffer);
    (group.foreach === true ? sgdForeach : sgd)(params, grads, buffers, group);
    states.forEach((s, i) => {
      const b = nth(buffers, i);
      if (b !== s.momentum_buffer) s.momentum_buffer = b && persist(b);
    });
  }
}
