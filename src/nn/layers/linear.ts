// Linear: y = x Wᵀ + b.
import { empty, linear } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';

export interface LinearOptions {
  bias?: boolean;
}

export class Linear extends Module {
  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    this.registerParameter('weight', empty([outFeatures, inFeatures]));
    this.registerParameter('bias', options.bias ?? true ? empty([outFeatures]) : null);
    this.resetParameters();
  }

  /** PyTorch's default: W ~ U(-1/√in, 1/√in) (kaiming_uniform with a=√5), b ~ U(-1/√in, 1/√in). */
  resetParameters(): void {
    kaimingUniform_(this.param('weight'), { a: Math.sqrt(5) });
    const b = this.optionalParam('bias');
    if (b) {
      const bound = this.inFeatures > 0 ? 1 / Math.sqrt(this.inFeatures) : 0;
      uniform_(b, -bound, bound);
    }
  }

  /** (…, in) → (…, out) */
  forward(x: Tensor): Tensor {
    return linear(x, this.param('weight'), this.optionalParam('bias'));
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.optionalParam('bias') !== null ? 'True' : 'False'}`;
  }
}
