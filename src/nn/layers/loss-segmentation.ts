// Loss modules around the segmentation losses (../losses-segmentation.ts).
import type { Tensor } from '../../tensor/tensor.js';
import { diceCrossEntropyLoss, diceLoss, SEGMENTATION_IGNORE_INDEX, type DiceCEOptions, type DiceMode, type DiceOptions } from '../losses-segmentation.js';
import { Module } from '../module.js';
import { pyBool, pyFloat } from '../repr.js';

const pyIndex = (i: number | null) => (i === null ? 'None' : String(i));

/** smp's DiceLoss: logits (N, C, …) against class indices (multiclass) or 0/1 masks. */
export class DiceLoss extends Module {
  readonly mode: DiceMode;
  readonly fromLogits: boolean;
  readonly smooth: number;
  readonly eps: number;
  readonly ignoreIndex: number | null;
  readonly logLoss: boolean;

  constructor(o: DiceOptions = {}) {
    super();
    this.mode = o.mode ?? 'multiclass';
    if (!['multiclass', 'multilabel', 'binary'].includes(this.mode)) throw new RangeError(`DiceLoss: mode must be 'multiclass', 'multilabel' or 'binary', got '${String(this.mode)}'`);
    this.fromLogits = o.fromLogits ?? true;
    this.smooth = o.smooth ?? 0;
    this.eps = o.eps ?? 1e-7;
    this.ignoreIndex = o.ignoreIndex ?? null;
    this.logLoss = o.logLoss ?? false;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return diceLoss(input, target, { mode: this.mode, fromLogits: this.fromLogits, smooth: this.smooth, eps: this.eps, ignoreIndex: this.ignoreIndex, logLoss: this.logLoss });
  }

  override extraRepr(): string {
    return `mode='${this.mode}', from_logits=${pyBool(this.fromLogits)}, smooth=${pyFloat(this.smooth)}, eps=${pyFloat(this.eps)}, ignore_index=${pyIndex(this.ignoreIndex)}, log_loss=${pyBool(this.logLoss)}`;
  }
}

/** Cross-entropy plus Dice (multiclass) with one ignore index (default 255): see diceCrossEntropyLoss. */
export class DiceCELoss extends Module {
  readonly ignoreIndex: number;
  readonly ceWeight: number;
  readonly diceWeight: number;
  readonly smooth: number;
  readonly eps: number;
  readonly logLoss: boolean;

  constructor(o: DiceCEOptions = {}) {
    super();
    this.ignoreIndex = o.ignoreIndex ?? SEGMENTATION_IGNORE_INDEX;
    this.ceWeight = o.ceWeight ?? 1;
    this.diceWeight = o.diceWeight ?? 1;
    this.smooth = o.smooth ?? 0;
    this.eps = o.eps ?? 1e-7;
    this.logLoss = o.logLoss ?? false;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    const { ignoreIndex, ceWeight, diceWeight, smooth, eps, logLoss } = this;
    return diceCrossEntropyLoss(input, target, { ignoreIndex, ceWeight, diceWeight, smooth, eps, logLoss });
  }

  override extraRepr(): string {
    return `ce_weight=${pyFloat(this.ceWeight)}, dice_weight=${pyFloat(this.diceWeight)}, smooth=${pyFloat(this.smooth)}, eps=${pyFloat(this.eps)}, ignore_index=${this.ignoreIndex}, log_loss=${pyBool(this.logLoss)}`;
  }
}
