// Adagrad (Duchi et al. 2011), PyTorch's single-tensor dense path (torch/optim/adagrad.py):
//
//   t ← t + 1
//   g ← ∇θ + λ·θ
//   η_t ← η / (1 + (t − 1)·δ)        (δ: lr decay)
//   s ← s + g²                       (s starts at the initial accumulator value)
//   θ ← θ − η_t · g / (√s + ε)
import { fullLike } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, keepState, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdagradOptions extends GroupOptions {
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export type AdagradState = { step: number; sum: Tensor };

/** Adagrad's update of `params` in place; `steps` are incremented in place. */
export function adagrad(params: Tensor[], grads: Tensor[], stateSums: Tensor[], steps: number[], o: AdagradOptions): void {
  params.forEach((param, i) => {
    const step = nth(steps, i) + 1;
    steps[i] = step;
    let grad = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    if (o.weightDecay !== 0) grad = grad.add(param, { alpha: o.weightDecay });
    const clr = o.lr / (1 + (step - 1) * o.lrDecay);
    const stateSum = nth(stateSums, i);
    stateSum.addcmul_(grad, grad, { value: 1 });
    const std = stateSum.sqrt().add_(o.eps);
    param.addcdiv_(grad, std, { value: -clr });
  });
}

const DEFAULTS: AdagradOptions = { lr: 1e-2, lrDecay: 0, weightDecay: 0, initialAccumulatorValue: 0, eps: 1e-10, maximize: false };

/** Adagrad. Like PyTorch, its state (step 0, sum = initialAccumulatorValue) exists from construction. */
export class Adagrad extends Optimizer<AdagradOptions, AdagradState> {
  constructor(params: ParamsInput<AdagradOptions>, options: Partial<AdagradOptions> = {}) {
    super(params, { ...DEFAULTS, ...definedOnly(options) });
  }

  protected override validate(g: ParamGroup<AdagradOptions>): void {
    for (const k of ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps'] as const)
      if (!(g[k] >= 0)) throw new RangeError(`Adagrad: invalid ${k} ${g[k]}`);
  }

  protected override onAddGroup(group: ParamGroup<AdagradOptions>): void {
    for (const p of group.params) {
      const s: AdagradState = { step: 0, sum: fullLike(p, group.initialAccumulatorValue) };
      keepState(s);
      this.state.set(p, s);
    }
  }

  protected override updateGroup(group: ParamGroup<AdagradOptions>): void {
    const { params, grads } = this.withGrads(group);
    const states = params.map((p) => this.stateOf(p, () => ({ step: 0, sum: fullLike(p, group.initialAccumulatorValue) })));
    const steps = states.map((s) => s.step);
    adagrad(params, grads, states.map((s) => s.sum), steps, group);
    states.forEach((s, i) => (s.step = nth(steps, i)));
  }
}
