// Layers that only rearrange: Identity, Flatten, Unflatten.
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { pyTuple } from '../repr.js';

/** Returns its input (a placeholder, e.g. to remove a classifier head without changing keys). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims startDim..endDim into one. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  /** (N, C, H, W) → (N, C·H·W) with the defaults */
  forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Splits dim `dim` into `unflattenedSize` (one entry may be -1). */
export class Unflatten extends Module {
  readonly unflattenedSize: number[];

  constructor(readonly dim: number, unflattenedSize: readonly number[]) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }

  /** (N, C·H·W) → (N, C, H, W) for dim=1, size [C, H, W] */
  forward(x: Tensor): Tensor {
    return x.unflatten(this.dim, this.unflattenedSize);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}
