// Loss modules around the functions of ../losses.ts. Class weights are buffers, so they appear
// in the state dict under PyTorch's names ('weight', 'pos_weight').
import type { Tensor } from '../../tensor/tensor.js';
import {
  binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, focalLoss, huberLoss, klDiv, l1Loss, mseLoss, nllLoss, sigmoidFocalLoss, smoothL1Loss,
  type BCEOptions, type BCEWithLogitsOptions, type CrossEntropyOptions, type FocalOptions, type KLReduction, type NLLOptions, type Reduction, type SigmoidFocalOptions,
} from '../losses.js';
import { Module } from '../module.js';
import { pyFloat } from '../repr.js';


export class CrossEntropyLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;

  constructor(o: CrossEntropyOptions = {}) {
    super();
    this.registerBuffer('weight', o.weight ?? null);
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
    this.labelSmoothing = o.labelSmoothing ?? 0;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, { weight: this.optionalBuffer('weight'), ignoreIndex: this.ignoreIndex, reduction: this.reduction, labelSmoothing: this.labelSmoothing });
  }
}

export class NLLLoss extends Module {
  readonly ignoreIndex: number;
  readonly reduction: Reduction;

  constructor(o: NLLOptions = {}) {
    super();
    this.registerBuffer('weight', o.weight ?? null);
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.optionalBuffer('weight'), ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }
}

export class BCELoss extends Module {
  readonly reduction: Reduction;

  constructor(o: BCEOptions = {}) {
    super();
    this.reduction = o.reduction ?? 'mean';
    this.registerBuffer('weight', o.weight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.optionalBuffer('weight'), reduction: this.reduction });
  }
}

export class BCEWithLogitsLoss extends Module {
  readonly reduction: Reduction;

  constructor(o: BCEWithLogitsOptions = {}) {
    super();
    this.reduction = o.reduction ?? 'mean';
    this.registerBuffer('weight', o.weight ?? null);
    this.registerBuffer('pos_weight', o.posWeight ?? null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.optionalBuffer('weight'), posWeight: this.optionalBuffer('pos_weight'), reduction: this.reduction });
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
    return klDiv(input, target, this.o);
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

  constructor(o: FocalOptions = {}) {
    super();
    this.gamma = o.gamma ?? 2;
    this.ignoreIndex = o.ignoreIndex ?? -100;
    this.reduction = o.reduction ?? 'mean';
    this.scalarAlpha = typeof o.alpha === 'number' ? o.alpha : null;
    this.registerBuffer('alpha', o.alpha && typeof o.alpha !== 'number' ? o.alpha : null);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    const alpha = this.scalarAlpha ?? this.optionalBuffer('alpha');
    return focalLoss(input, target, { gamma: this.gamma, alpha, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }

  override extraRepr(): string {
    return `gamma=${pyFloat(this.gamma)}, reduction='${this.reduction}'`;
  }
}

