// Lion, "EvoLved Sign Momentum" (Chen et al. 2023, "Symbolic Discovery of Optimization
// Algorithms", Algorithm 2). Not in PyTorch 1.13; the tests check it against a transcription of
// the paper's algorithm in Python.
//
//   c ← β1·m + (1 − β1)·g            (interpolate the momentum with the gradient)
//   θ ← θ − η·(sign(c) + λ·θ)        (applied as θ ← θ·(1 − η·λ), then θ ← θ − η·sign(c))
//   m ← β2·m + (1 − β2)·g            (the momentum is tracked with a different β)
//
// Every coordinate moves by exactly ±η per step, so the paper recommends an lr 3–10× smaller and
// a weight decay 3–10× larger than AdamW's.
import { zerosLike } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface LionOptions extends GroupOptions {
  betas: [number, number];
  weightDecay: number;
  maximize: boolean;
}

export type LionState = { exp_avg: Tensor };

/** Lion's update of `params` in place. */
export function lion(params: Tensor[], grads: Tensor[], expAvgs: Tensor[], o: LionOptions): void {
  const [beta1, beta2] = o.betas;
  params.forEach((param, i) => {
    const grad = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    const expAvg = nth(expAvgs, i);
    if (o.weightDecay !== 0) param.mul_(1 - o.lr * o.weightDecay); // decoupled decay, as AdamW
    const update = expAvg.mul(beta1).add_(grad, { alpha: 1 - beta1 }).sign();
    param.add_(update, { alpha: -o.lr });
    expAvg.mul_(beta2).add_(grad, { alpha: 1 - beta2 });
  });
}

const DEFAULTS: LionOptions = { lr: 1e-4, betas: [0.9, 0.99], weightDecay: 0, maximize: false };

/** Lion. Defaults from the paper: lr 1e-4, betas (0.9, 0.99), no weight decay. */
export class Lion extends Optimizer<LionOptions, LionState> {
  constructor(params: ParamsInput<LionOptions>, options: Partial<LionOptions> = {}) {
    super(params, { ...DEFAULTS, ...definedOnly(options) });
  }

  protected override validate(g: ParamGroup<LionOptions>): void {
    if (!(g.lr >= 0)) throw new RangeError(`Lion: invalid learning rate ${g.lr}`);
    g.betas.forEach((beta, k) => {
      if (!(beta >= 0 && beta < 1)) throw new RangeError(`Lion: invalid beta parameter at index ${k}: ${beta}`);
    });
    if (!(g.weightDecay >= 0)) throw new RangeError(`Lion: invalid weightDecay ${g.weightDecay}`);
  }

  protected override updateGroup(group: ParamGroup<LionOptions>): void {
    const { params, grads } = this.withGrads(group);
    const states = params.map((p) => this.stateOf(p, () => ({ exp_avg: zerosLike(p) })));
    lion(params, grads, states.map((s) => s.exp_avg), group);
  }
}
