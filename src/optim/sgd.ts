// Stochastic gradient descent with momentum (PyTorch's torch/optim/sgd.py, single-tensor path).
//
//   g ← ∇θ (−∇θ when maximizing) + λ·θ
//   b ← g                          on the first step
//   b ← μ·b + (1 − τ)·g            afterwards (τ: dampening)
//   g ← g + μ·b  (Nesterov)   or   g ← b
//   θ ← θ − η·g
import { persist } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions extends GroupOptions {
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

/** PyTorch keeps `momentum_buffer: None` for parameters stepped without momentum. */
export type SGDState = { momentum_buffer: Tensor | null };

const DEFAULTS: Omit<SGDOptions, 'lr'> = { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false };

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
    sgd(params, grads, buffers, group);
    states.forEach((s, i) => {
      const b = nth(buffers, i);
      if (b !== s.momentum_buffer) s.momentum_buffer = b && persist(b);
    });
  }
}
