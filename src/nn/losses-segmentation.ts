// Segmentation losses: Dice, and Dice + cross-entropy. Dice follows segmentation_models.pytorch
// (smp ≥ 0.4, `smp.losses.DiceLoss`) term for term, so a recipe tuned with smp means the same here:
//
//   per class c, over the batch and all pixels (smp's dims (0, 2)):
//     I = (Σp + Σt − Σ|p − t|) / 2              (= Σp·t for 0/1 targets; smp's form also fits soft ones)
//     dice_c = (I + smooth) / max(I + ½(Σp − I) + ½(Σt − I) + smooth, eps)
//     loss_c = 1 − dice_c, or −log(max(dice_c, eps)) with logLoss
//     loss_c = 0 for a class with no target pixel in the batch (Dice is undefined there)
//   loss = mean over the classes (classes without pixels count as 0 in the mean).
//
// (smp ≤ 0.3 computed (2·Σp·t + smooth) / (Σp + Σt + smooth): the same with smooth = 0; its smooth
// is twice ours otherwise.) Probabilities come from the logits as exp(log_softmax) (multiclass) or
// exp(log_sigmoid) (binary, multilabel), as smp does. Pixels whose target is the ignore index count
// nowhere: their probabilities and their one-hot targets are zeroed.
import * as ops from '../tensor/generated/ops.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from './losses.js';

/** The label of pixels to ignore in segmentation masks (PNG masks of class ids, 255 = ignore). */
export const SEGMENTATION_IGNORE_INDEX = 255;

/**
 * 'multiclass': logits (N, C, …), targets (N, …) class indices, softmax over C. 'multilabel': logits
 * (N, C, …), targets 0/1 of the same shape, a sigmoid per class. 'binary': one channel (N, 1, …),
 * targets 0/1 with N·… values.
 */
export type DiceMode = 'multiclass' | 'multilabel' | 'binary';

export interface DiceOptions {
  /** Default 'multiclass'. */
  mode?: DiceMode;
  /** The input is logits (default); false: it is already probabilities. */
  fromLogits?: boolean;
  /** Added to numerator and denominator (default 0). */
  smooth?: number;
  /** Lower bound of the denominator, and of the score under logLoss (default 1e-7). */
  eps?: number;
  /** Targets equal to this count nowhere (default null: none, as smp). */
  ignoreIndex?: number | null;
  /** −log(dice) instead of 1 − dice (default false). */
  logLoss?: boolean;
}

/** Dice loss of logits (or probabilities) against targets: smp's DiceLoss (see the top of this file). */
export function diceLoss(input: Tensor, target: Tensor, o: DiceOptions = {}): Tensor {
  const mode = o.mode ?? 'multiclass';
  const [smooth, eps, ignore] = [o.smooth ?? 0, o.eps ?? 1e-7, o.ignoreIndex ?? null];
  const who = `diceLoss(${mode})`;
  if (input.dim() < 2) throw new RangeError(`${who}: input must be (N, C, …), got shape [${input.shape.join(', ')}]`);
  const [bs, C] = input.shape as [number, number];
  let p = o.fromLogits ?? true ? (mode === 'multiclass' ? ops.logSoftmax(input, 1).exp() : ops.logSigmoid(input).exp()) : input;
  let t: Tensor;
  if (mode === 'multiclass') {
    const spatial = input.shape.slice(2);
    if (target.dim() !== input.dim() - 1 || target.shape[0] !== bs || target.shape.slice(1).some((s, i) => s !== spatial[i]))
      throw new RangeError(`${who}: target must be (N, …) = [${[bs, ...spatial].join(', ')}] class indices for input [${input.shape.join(', ')}], got [${target.shape.join(', ')}]`);
    if (isFloatingPoint(target.dtype) || target.dtype === 'bool') throw new TypeError(`${who}: target must hold integer class indices, got ${target.dtype}`);
    let y = target.reshape([bs, -1]).long(); // (N, P)
    p = p.reshape([bs, C, -1]); // (N, C, P)
    let mask: Tensor | null = null;
    if (ignore !== null) {
      mask = y.ne(ignore); // (N, P)
      p = p.mul(mask.unsqueeze(1));
      y = y.mul(mask);
    }
    t = oneHotOf(who, y, C).permute([0, 2, 1]); // (N, C, P)
    if (mask) t = t.mul(mask.unsqueeze(1));
  } else {
    if (mode !== 'multilabel' && mode !== 'binary') throw new RangeError(`diceLoss: mode must be 'multiclass', 'multilabel' or 'binary', got '${String(mode)}'`);
    const channels = mode === 'binary' ? 1 : C;
    if (mode === 'binary' ? C !== 1 || target.numel() !== input.numel() : target.shape.join() !== input.shape.join())
      throw new RangeError(`${who}: input [${input.shape.join(', ')}] and target [${target.shape.join(', ')}] must be ${mode === 'binary' ? '(N, 1, …) and N·… values' : 'of the same shape'}`);
    p = p.reshape([bs, channels, -1]);
    t = target.reshape([bs, channels, -1]);
    if (ignore !== null) {
      const mask = t.ne(ignore);
      p = p.mul(mask);
      t = t.mul(mask);
    }
  }
  t = t.to(p.dtype);
  const dims = [0, 2];
  const outputSum = p.sum(dims); // (C)
  const targetSum = t.sum(dims);
  const difference = p.sub(t).abs().sum(dims);
  const intersection = outputSum.add(targetSum).sub(difference).div(2);
  const fp = outputSum.sub(intersection);
  const fn = targetSum.sub(intersection);
  const score = intersection.add(smooth).div(intersection.add(fp.mul(0.5)).add(fn.mul(0.5)).add(smooth).clampMin(eps));
  const loss = o.logLoss ? score.clampMin(eps).log().neg() : ops.rsub(score, 1);
  return loss.mul(targetSum.gt(0).to(loss.dtype)).mean();
}

/** one_hot with an error that names the value out of range (LibTorch's says only that one is). */
function oneHotOf(who: string, y: Tensor, classes: number): Tensor {
  const bad = ops.logicalOr(y.lt(0), y.ge(classes));
  if (bad.any().item()) {
    const value = ops.maskedSelect(y, bad).data()[0];
    throw new RangeError(`${who}: target ${String(value)} is not a class index in [0, ${classes}) (pass ignoreIndex for labels to skip)`);
  }
  return ops.oneHot(y, classes);
}

export interface DiceCEOptions extends Omit<DiceOptions, 'mode' | 'fromLogits' | 'ignoreIndex'> {
  /** Pixels with this target count in neither term (default 255, SEGMENTATION_IGNORE_INDEX). */
  ignoreIndex?: number;
  /** Weight of the cross-entropy term (default 1). */
  ceWeight?: number;
  /** Weight of the Dice term (default 1). */
  diceWeight?: number;
}

/**
 * ceWeight · crossEntropy + diceWeight · diceLoss (multiclass, from logits) of logits (N, C, …)
 * against class indices (N, …), one ignore index for both: the usual segmentation loss (cross-entropy
 * for per-pixel calibration, Dice against class imbalance).
 */
export function diceCrossEntropyLoss(input: Tensor, target: Tensor, o: DiceCEOptions = {}): Tensor {
  const { ceWeight = 1, diceWeight = 1, ignoreIndex = SEGMENTATION_IGNORE_INDEX, ...dice } = o;
  const d = diceLoss(input, target, { ...dice, mode: 'multiclass', ignoreIndex });
  const ce = crossEntropy(input, target.dtype === 'int64' ? target : target.long(), { ignoreIndex });
  return ce.mul(ceWeight).add(d.mul(diceWeight));
}
