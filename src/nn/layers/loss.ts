// Loss modules around the functional forms (../functional.ts). Class weights are buffers, so they
// appear in the state dict under PyTorch's names ('weight', 'pos_weight').
import type { Tensor } from '../../tensor/tensor.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, focalLoss, huberLoss, klDivLoss, l1Loss, mseLoss, nllLossNd, sigmoidFocalLoss, smoothL1Loss,
} from '../functional.js';
import {
  checkSameShape, type BCEOptions, type BCEWithLogitsOptions, type CrossEntropyOptions, type FocalOptions, type KLReduction, type NLLOptions, type Reduction,
  type SigmoidFocalOptions,
} from '../losses.js';
import { Module } from '../module.js';
import { pyFloat } from '../repr.js';

export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;
  /** Per-class weights (C), or null */
  readonly weight: Tensor | null;

  constructor(o: CrossEntropyOptions = {}) {
    super();
    this.weight = this.registerBuffer('weight', o.weight ?? null);
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
    this.labelSmoothing = o.labelSmoothing ?? 0;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

export class NLLLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  /** Per-class weights (C), or null */
  readonly weight: Tensor | null;

  constructor(o: NLLOptions = {}) {
    super();
    this.weight = this.registerBuffer('weight', o.weight ?? null);
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
  }

  /** Log-probabilities (N, C) or (N, C, d1, …), class indices (N) or (N, d1, …) */
  forward(input: Tensor, target: Tensor): Tensor {
    return nllLossNd(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class BCELoss extends Module {
  readonly reduction: Reduction;
  /** Per-element weights (broadcast to the input), or null */
  readonly weight: Tensor | null;

  constructor(o: BCEOptions = {}) {
    super();
    this.reduction = o.reduction ?? 'mean';
    this.weight = this.registerBuffer('weight', o.weight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    checkSameShape('BCELoss', input, target);
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;
  /** Per-element weights (broadcast to the input), or null */
  readonly weight: Tensor | null;
  /** Per-class weights of the positive term (broadcast over the last dim), or null */
  readonly posWeight: Tensor | null;

  constructor(o: BCEWithLogitsOptions = {}) {
    super();
    this.reduction = o.reduction ?? 'mean';
    this.weight = this.registerBuffer('weight', o.weight ?? null);
    this.posWeight = this.registerBuffer('pos_weight', o.posWeight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    checkSameShape('BCEWithLogitsLoss', input, target);
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

export class MSELoss extends Module {
  constructor(readonly reduction: Reduction = 'mean') {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.reduction);
  }
}

export class L1Loss extends Module {
  constructor(readonly reduction: Reduction = 'mean') {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, this.reduction);
  }
}

export class SmoothL1Loss extends Module {
  constructor(readonly o: { reduction?: Reduction; beta?: number } = {}) {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, this.o);
  }
}

export class HuberLoss extends Module {
  constructor(readonly o: { reduction?: Reduction; delta?: number } = {}) {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, this.o);
  }
}

export class KLDivLoss extends Module {
  constructor(readonly o: { reduction?: KLReduction; logTarget?: boolean } = {}) {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return klDivLoss(input, target, this.o);
  }
}

/** Binary focal loss (see sigmoidFocalLoss). */
export class SigmoidFocalLoss extends Module {
  constructor(readonly o: SigmoidFocalOptions = {}) {
    super();
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return sigmoidFocalLoss(input, target, this.o);
  }

  override extraRepr(): string {
    return `alpha=${pyFloat(this.o.alpha ?? 0.25)}, gamma=${pyFloat(this.o.gamma ?? 2)}, reduction='${this.o.reduction ?? 'mean'}'`;
  }
}

/** Multi-class focal loss (see focalLoss); a per-class α is a buffer named 'alpha'. */
export class FocalLoss extends Module {
  readonly gamma: number;
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly scalarAlpha: number | null;
  /** Per-class α (C), or null (no α, or one number: scalarAlpha) */
  readonly alpha: Tensor | null;

  constructor(o: FocalOptions = {}) {
    super();
    this.gamma = o.gamma ?? 2;
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
    this.scalarAlpha = typeof o.alpha === 'number' ? o.alpha : null;
    this.alpha = this.registerBuffer('alpha', o.alpha && typeof o.alpha !== 'number' ? o.alpha : null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return focalLoss(input, target, { gamma: this.gamma, alpha: this.scalarAlpha ?? this.alpha, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }

  override extraRepr(): string {
    return `gamma=${pyFloat(this.gamma)}, reduction='${this.reduction}'`;
  }
}
