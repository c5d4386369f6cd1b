// Dropout layers. Active only in train mode; they draw from the default (seeded) generator through
// the same ATen kernels as PyTorch, so `manualSeed(s)` gives PyTorch's masks bit for bit.
import type { Tensor } from '../../tensor/tensor.js';
import { dropout, featureDropout } from '../functional.js';
import { Module } from '../module.js';
import { pyFloat } from '../repr.js';

abstract class DropoutBase extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout probability has to be between 0 and 1, but got ${p}`);
  }

  override extraRepr(): string {
    return `p=${pyFloat(this.p)}, inplace=False`;
  }
}

/** Zeroes each element with probability p and scales the rest by 1/(1-p). */
export class Dropout extends DropoutBase {
  /** (*) → same shape */
  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }
}

/** Zeroes whole channels: each (sample, channel) plane with probability p, the rest scaled by 1/(1-p). */
export class Dropout2d extends DropoutBase {
  /** (N, C, H, W) → same shape (a 3-D input is read as (N, C, L), as PyTorch 1.13 does) */
  forward(x: Tensor): Tensor {
    return featureDropout(x, this.p, this.training);
  }
}
