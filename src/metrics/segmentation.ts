// Segmentation metrics: every pixel is a sample, so one K×K confusion matrix over all pixels of a set
// (row = true class, column = predicted class; pixels whose target is the ignore index, 255 by
// default, are not counted) gives all of them exactly, as torchvision's segmentation reference does:
//
//   IoU_c  = tp / (tp + fp + fn)          Dice_c = 2·tp / (2·tp + fp + fn)  (= F1 of class c)
//   pixel accuracy = Σ tp / pixels counted
//
// A class absent from both the targets and the predictions has no IoU or Dice (0/0): it is null and
// left out of the means (numpy's nanmean, as mmsegmentation; torchvision's reference would report a
// NaN mean instead). A class that is predicted but never true has IoU 0 and counts.
import * as ops from '../tensor/generated/ops.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { SEGMENTATION_IGNORE_INDEX } from '../nn/losses-segmentation.js';
import { ConfusionMatrix } from './confusion.js';
import { ConfusionMetric } from './metrics.js';
import type { Metric } from './types.js';

export interface SegmentationClassScores {
  /** null when the class is in neither the targets nor the predictions. */
  iou: number | null;
  dice: number | null;
  /** Pixels whose true class this is. */
  support: number;
}

export interface SegmentationScores {
  perClass: SegmentationClassScores[];
  /** Mean over the classes whose IoU is defined; NaN when none is. */
  meanIoU: number;
  /** Mean over the classes whose Dice is defined; NaN when none is. */
  meanDice: number;
  /** NaN when no pixel was counted. */
  pixelAccuracy: number;
}

/** IoU, Dice (per class and mean) and pixel accuracy of a pixel confusion matrix. */
export function segmentationScores(cm: ConfusionMatrix): SegmentationScores {
  const K = cm.numClasses;
  const predicted = new Float64Array(K);
  const support = new Float64Array(K);
  let correct = 0;
  for (let t = 0; t < K; t++)
    for (let p = 0; p < K; p++) {
      const c = cm.at(t, p);
      support[t] = (support[t] as number) + c;
      predicted[p] = (predicted[p] as number) + c;
      if (t === p) correct += c;
    }
  const perClass = Array.from({ length: K }, (_, k): SegmentationClassScores => {
    const tp = cm.at(k, k);
    const fp = (predicted[k] as number) - tp;
    const fn = (support[k] as number) - tp;
    const union = tp + fp + fn;
    return { iou: union === 0 ? null : tp / union, dice: union === 0 ? null : (2 * tp) / (tp + union), support: support[k] as number };
  });
  const mean = (xs: (number | null)[]) => {
    const defined = xs.filter((x): x is number => x !== null);
    return defined.length === 0 ? Number.NaN : defined.reduce((a, b) => a + b, 0) / defined.length;
  };
  const total = cm.total;
  return {
    perClass,
    meanIoU: mean(perClass.map((c) => c.iou)),
    meanDice: mean(perClass.map((c) => c.dice)),
    pixelAccuracy: total === 0 ? Number.NaN : correct / total,
  };
}

export interface SegmentationMetricOptions {
  /** Pixels with this target are not counted (default 255). */
  ignoreIndex?: number;
  /** Key in logs (defaults: 'miou', 'dice', 'pixel_accuracy'). */
  name?: string;
}

/**
 * Adds one batch of pixels to `cm`: `output` (N, K, H, W) scores (the prediction is the argmax over
 * K) or (N, H, W) integer predictions; `target` (N, H, W) integer class indices (uint8 masks too).
 */
export function addPixels(cm: ConfusionMatrix, output: Tensor, target: Tensor, who = 'addPixels'): void {
  const K = cm.numClasses;
  const spatial = output.dim() === 4 ? output.shape.filter((_, i) => i !== 1) : output.shape;
  const scores = output.dim() === 4 && isFloatingPoint(output.dtype);
  if (!(scores ? output.shape[1] === K : output.dim() === 3 && !isFloatingPoint(output.dtype)))
    throw new RangeError(`${who}: output must be (N, ${K}, H, W) scores or (N, H, W) integer predictions, got ${output.dtype} [${output.shape.join(', ')}]`);
  if (target.shape.join() !== spatial.join() || isFloatingPoint(target.dtype))
    throw new RangeError(`${who}: target must be (N, H, W) = [${spatial.join(', ')}] integer class indices, got ${target.dtype} [${target.shape.join(', ')}]`);
  scope(() => {
    const pred = scores ? ops.argmax(output, 1) : output; // (N, H, W)
    cm.update(pred.reshape([-1]).long(), target.reshape([-1]).long());
  });
}

/** The segmentation metrics as `Metric`s: one pixel confusion matrix each (255 ignored by default), read at the end. */
abstract class SegmentationMetric extends ConfusionMetric {
  readonly targets = 'task' as const;

  constructor(numClasses: number, options: SegmentationMetricOptions) {
    super(numClasses, { ignoreIndex: options.ignoreIndex ?? SEGMENTATION_IGNORE_INDEX });
  }

  /** `output` (N, K, H, W) logits or (N, H, W) predictions; `target` (N, H, W) class indices. */
  override update(output: Tensor, target: Tensor): void {
    addPixels(this.matrix, output, target, `${this.constructor.name}.update`);
  }

  scores(): SegmentationScores {
    return segmentationScores(this.matrix);
  }
}

/** Mean intersection over union over the classes seen (NaN before any pixel). */
export class MeanIoU extends SegmentationMetric {
  readonly name: string;
  constructor(numClasses: number, options: SegmentationMetricOptions = {}) {
    super(numClasses, options);
    this.name = options.name ?? 'miou';
  }
  compute(): number {
    return this.scores().meanIoU;
  }
}

/** Mean Dice (per-class F1 over pixels) over the classes seen (NaN before any pixel). */
export class MeanDice extends SegmentationMetric {
  readonly name: string;
  constructor(numClasses: number, options: SegmentationMetricOptions = {}) {
    super(numClasses, options);
    this.name = options.name ?? 'dice';
  }
  compute(): number {
    return this.scores().meanDice;
  }
}

/** Fraction of counted pixels predicted right (NaN before any pixel). */
export class PixelAccuracy extends SegmentationMetric {
  readonly name: string;
  constructor(numClasses: number, options: SegmentationMetricOptions = {}) {
    super(numClasses, options);
    this.name = options.name ?? 'pixel_accuracy';
  }
  compute(): number {
    return this.scores().pixelAccuracy;
  }
}

export const SEGMENTATION_METRIC_NAMES = ['miou', 'dice', 'pixel_accuracy'] as const;

/** The segmentation metric a config names: 'miou', 'dice' or 'pixel_accuracy'. */
export function createSegmentationMetric(name: string, numClasses: number, options: Omit<SegmentationMetricOptions, 'name'> = {}): Metric {
  switch (name) {
    case 'miou':
      return new MeanIoU(numClasses, options);
    case 'dice':
      return new MeanDice(numClasses, options);
    case 'pixel_accuracy':
      return new PixelAccuracy(numClasses, options);
    default:
      throw new RangeError(`unknown segmentation metric '${name}': expected one of ${SEGMENTATION_METRIC_NAMES.join(', ')}`);
  }
}
