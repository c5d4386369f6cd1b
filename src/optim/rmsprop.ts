// RMSprop (Hinton's lecture 6e; centered variant from Graves 2013), PyTorch's single-tensor path
// (torch/optim/rmsprop.py):
//
//   g ← ∇θ + λ·θ
//   v ← α·v + (1 − α)·g²
//   centered:  ḡ ← α·ḡ + (1 − α)·g;   d ← √(v − ḡ²) + ε      else  d ← √v + ε
//   momentum:  b ← μ·b + g/d;  θ ← θ − η·b                    else  θ ← θ − η·g/d
import { addcmul, zerosLike } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface RMSpropOptions extends GroupOptions {
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export type RMSpropState = { step: number; square_avg: Tensor; momentum_buffer?: Tensor; grad_avg?: Tensor };

export interface RMSpropBuffers {
  squareAvgs: Tensor[];
  /** Used only when centered. */
  gradAvgs: Tensor[];
  /** Used only with momentum > 0. */
  momentumBuffers: Tensor[];
}

/** RMSprop's update of `params` in place. */
export function rmsprop(params: Tensor[], grads: Tensor[], b: RMSpropBuffers, o: RMSpropOptions): void {
  params.forEach((param, i) => {
    let grad = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    if (o.weightDecay !== 0) grad = grad.add(param, { alpha: o.weightDecay });
    const squareAvg = nth(b.squareAvgs, i);
    squareAvg.mul_(o.alpha).addcmul_(grad, grad, { value: 1 - o.alpha });
    let avg: Tensor;
    if (o.centered) {
      const gradAvg = nth(b.gradAvgs, i);
      gradAvg.mul_(o.alpha).add_(grad, { alpha: 1 - o.alpha });
      avg = addcmul(squareAvg, gradAvg, gradAvg, { value: -1 }).sqrt_(); // √(v − ḡ²)
    } else {
      avg = squareAvg.sqrt();
    }
    avg.add_(o.eps);
    if (o.momentum > 0) {
      const buf = nth(b.momentumBuffers, i);
      buf.mul_(o.momentum).addcdiv_(grad, avg);
      param.add_(buf, { alpha: -o.lr });
    } else {
      param.addcdiv_(grad, avg, { value: -o.lr });
    }
  });
}

const DEFAULTS: RMSpropOptions = { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false };

/** RMSprop. Defaults as PyTorch's: lr 1e-2, alpha 0.99, eps 1e-8. */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, { ...DEFAULTS, ...definedOnly(options) });
  }

  protected override validate(g: ParamGroup<RMSpropOptions>): void {
    for (const k of ['lr', 'eps', 'momentum', 'weightDecay', 'alpha'] as const)
      if (!(g[k] >= 0)) throw new RangeError(`RMSprop: invalid ${k} ${g[k]}`);
  }

  protected override updateGroup(group: ParamGroup<RMSpropOptions>): void {
    const { params, grads } = this.withGrads(group);
    const states = params.map((p) =>
      this.stateOf(p, () => ({
        step: 0,
        square_avg: zerosLike(p),
        ...(group.momentum > 0 ? { momentum_buffer: zerosLike(p) } : {}),
        ...(group.centered ? { grad_avg: zerosLike(p) } : {}),
      })),
    );
    const missing = (what: string) => new Error(`RMSprop: ${what} was turned on after the first step`);
    const buffers: RMSpropBuffers = {
      squareAvgs: states.map((s) => s.square_avg),
      gradAvgs: group.centered ? states.map((s) => s.grad_avg ?? throwErr(missing('centered'))) : [],
      momentumBuffers: group.momentum > 0 ? states.map((s) => s.momentum_buffer ?? throwErr(missing('momentum'))) : [],
    };
    for (const s of states) s.step += 1; // kept for PyTorch's state layout; the update does not use it
    rmsprop(params, grads, buffers, group);
  }
}

function throwErr(e: Error): never {
  throw e;
}
