// Linear: y = x Wᵀ + b.
import { empty } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { linear } from '../functional.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';

export interface LinearOptions {
  bias?: boolean;
}

export class Linear extends Module {
  /** (out, in) */
  readonly weight: Tensor;
  /** (out), or null without bias */
  readonly bias: Tensor | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    this.weight = this.registerParameter('weight', empty([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', options.bias ?? true ? empty([outFeatures]) : null);
    this.resetParameters();
  }

  /** PyTorch's default: W ~ U(-1/√in, 1/√in) (kaiming_uniform with a=√5), b ~ U(-1/√in, 1/√in). */
  resetParameters(): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  /** (…, in) → (…, out) */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}
