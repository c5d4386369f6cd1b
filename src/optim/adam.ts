// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), PyTorch's single-tensor paths
// (torch/optim/adam.py, adamw.py). With t the parameter's step count:
//
//   Adam:  g ← ∇θ + λ·θ                    AdamW:  θ ← θ·(1 − η·λ)     (decoupled decay)
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   v̂ ← max(v̂, v) with amsgrad, else v̂ = v
//   θ ← θ − η/(1 − β1ᵗ) · m / (√v̂ / √(1 − β2ᵗ) + ε)
//
// The bias corrections are computed in double precision on the host, as PyTorch does when the
// step count is not captured on the device; `**` is V8's pow, which can differ from glibc's in the
// last bit, so step sizes may differ from PyTorch's by one ulp of a double.
import { maximum, zerosLike } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { definedOnly, nth, Optimizer, type GroupOptions, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdamOptions extends GroupOptions {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export type AdamState = { step: number; exp_avg: Tensor; exp_avg_sq: Tensor; max_exp_avg_sq?: Tensor };

/** The per-parameter lists the functional updates read and write (PyTorch's argument lists). */
export interface AdamBuffers {
  expAvgs: Tensor[];
  expAvgSqs: Tensor[];
  /** Used only with amsgrad. */
  maxExpAvgSqs: Tensor[];
  /** Step counts, incremented in place. */
  steps: number[];
}

/** Adam's update of `params` in place (L2 penalty added to the gradient). */
export function adam(params: Tensor[], grads: Tensor[], b: AdamBuffers, o: AdamOptions): void {
  params.forEach((param, i) => {
    let grad = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    b.steps[i] = nth(b.steps, i) + 1;
    if (o.weightDecay !== 0) grad = grad.add(param, { alpha: o.weightDecay });
    adamMoments(param, grad, b, i, o);
  });
}

/** AdamW's update of `params` in place (weight decay applied to θ, not to the gradient). */
export function adamw(params: Tensor[], grads: Tensor[], b: AdamBuffers, o: AdamOptions): void {
  params.forEach((param, i) => {
    const grad = o.maximize ? nth(grads, i).neg() : nth(grads, i);
    b.steps[i] = nth(b.steps, i) + 1;
    param.mul_(1 - o.lr * o.weightDecay);
    adamMoments(param, grad, b, i, o);
  });
}

/** The part Adam and AdamW share: moment updates and the bias-corrected step. */
function adamMoments(param: Tensor, grad: Tensor, b: AdamBuffers, i: number, o: AdamOptions): void {
  const [beta1, beta2] = o.betas;
  const expAvg = nth(b.expAvgs, i);
  const expAvgSq = nth(b.expAvgSqs, i);
  const step = nth(b.steps, i);
  expAvg.mul_(beta1).add_(grad, { alpha: 1 - beta1 });
  expAvgSq.mul_(beta2).addcmul_(grad, grad, { value: 1 - beta2 });
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  const stepSize = o.lr / biasCorrection1;
  const biasCorrection2Sqrt = Math.sqrt(biasCorrection2);
  let second = expAvgSq;
  if (o.amsgrad) {
    const maxSq = nth(b.maxExpAvgSqs, i);
    maxSq.copy_(maximum(maxSq, expAvgSq)); // the running maximum of v
    second = maxSq;
  }
  const denom = second.sqrt().div(biasCorrection2Sqrt).add_(o.eps);
  param.addcdiv_(expAvg, denom, { value: -stepSize });
}

const ADAM_DEFAULTS: AdamOptions = { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false };

abstract class AdamBase extends Optimizer<AdamOptions, AdamState> {
  protected abstract readonly update: typeof adam;

  protected override validate(g: ParamGroup<AdamOptions>): void {
    const name = this.constructor.name;
    if (!(g.lr >= 0)) throw new RangeError(`${name}: invalid learning rate ${g.lr}`);
    if (!(g.eps >= 0)) throw new RangeError(`${name}: invalid epsilon ${g.eps}`);
    g.betas.forEach((beta, k) => {
      if (!(beta >= 0 && beta < 1)) throw new RangeError(`${name}: invalid beta parameter at index ${k}: ${beta}`);
    });
    if (!(g.weightDecay >= 0)) throw new RangeError(`${name}: invalid weightDecay ${g.weightDecay}`);
  }

  protected override updateGroup(group: ParamGroup<AdamOptions>): void {
    const { params, grads } = this.withGrads(group);
    const states = params.map((p) =>
      this.stateOf(p, () => ({
        step: 0,
        exp_avg: zerosLike(p),
        exp_avg_sq: zerosLike(p),
        ...(group.amsgrad ? { max_exp_avg_sq: zerosLike(p) } : {}),
      })),
    );
    const buffers: AdamBuffers = {
      expAvgs: states.map((s) => s.exp_avg),
      expAvgSqs: states.map((s) => s.exp_avg_sq),
      maxExpAvgSqs: group.amsgrad ? states.map((s) => requireMax(s, this.constructor.name)) : [],
      steps: states.map((s) => s.step),
    };
    this.update(params, grads, buffers, group);
    states.forEach((s, i) => (s.step = nth(buffers.steps, i)));
  }
}

function requireMax(s: AdamState, name: string): Tensor {
  if (!s.max_exp_avg_sq) throw new Error(`${name}: amsgrad was turned on after the first step (state has no max_exp_avg_sq)`);
  return s.max_exp_avg_sq;
}

/** Adam. Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay. */
export class Adam extends AdamBase {
  protected readonly update = adam;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...ADAM_DEFAULTS, ...definedOnly(options) });
  }
}

/** AdamW. Defaults as Adam's, but weightDecay 1e-2 (PyTorch's default), applied decoupled. */
export class AdamW extends AdamBase {
  protected readonly update = adamw;
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, { ...ADAM_DEFAULTS, weightDecay: 1e-2, ...definedOnly(options) });
  }
}
