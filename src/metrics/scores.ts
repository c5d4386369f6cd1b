// Scores read off a confusion matrix. Zero division is explicit and matches sklearn's
// `zero_division=0`: a class never predicted has precision 0, a class with no samples has
// recall 0, and F1 = 2·tp / (2·tp + fp + fn) is 0 when that denominator is 0.
//
// Averages: `macro` is the unweighted mean over the classes that occur in the targets or in the
// predictions (sklearn's default label set: a class absent from both says nothing about the
// model and would drag the mean to 0); `weighted` weights each class by its support; `micro`
// pools the counts, which for single-label classification equals accuracy.
import type { ConfusionMatrix } from './confusion.js';

export type Average = 'macro' | 'micro' | 'weighted';

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Samples whose true class this is. */
  support: number;
}

export interface AveragedScores {
  precision: number;
  recall: number;
  f1: number;
}

export interface PrecisionRecallF1 {
  perClass: ClassScores[];
  macro: AveragedScores;
  micro: AveragedScores;
  weighted: AveragedScores;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Fraction of counted samples predicted correctly; NaN when nothing was counted. */
export function accuracyOf(cm: ConfusionMatrix): number {
  let correct = 0;
  for (let k = 0; k < cm.numClasses; k++) correct += cm.at(k, k);
  const total = cm.total;
  return total === 0 ? Number.NaN : correct / total;
}

/** Per-class precision, recall, F1 and support, and their macro/micro/weighted averages. */
export function precisionRecallF1(cm: ConfusionMatrix): PrecisionRecallF1 {
  const K = cm.numClasses;
  const tp = new Float64Array(K);
  const predicted = new Float64Array(K); // column sums: tp + fp
  const support = new Float64Array(K); // row sums: tp + fn
  for (let t = 0; t < K; t++)
    for (let p = 0; p < K; p++) {
      const c = cm.at(t, p);
      support[t] = (support[t] as number) + c;
      predicted[p] = (predicted[p] as number) + c;
      if (t === p) tp[t] = c;
    }
  const perClass: ClassScores[] = [];
  for (let k = 0; k < K; k++) {
    const fp = (predicted[k] as number) - (tp[k] as number);
    const fn = (support[k] as number) - (tp[k] as number);
    perClass.push({
      precision: ratio(tp[k] as number, predicted[k] as number),
      recall: ratio(tp[k] as number, support[k] as number),
      f1: ratio(2 * (tp[k] as number), 2 * (tp[k] as number) + fp + fn),
      support: support[k] as number,
    });
  }
  const present = perClass.filter((_, k) => (support[k] as number) > 0 || (predicted[k] as number) > 0);
  const mean = (key: keyof AveragedScores): number => ratio(present.reduce((s, c) => s + c[key], 0), present.length);
  const total = support.reduce((a, b) => a + b, 0);
  const weightedMean = (key: keyof AveragedScores): number => ratio(perClass.reduce((s, c) => s + c[key] * c.support, 0), total);
  // Pooled over classes: Σtp / Σ(tp+fp) and Σtp / Σ(tp+fn); both sums are the total.
  const tpAll = tp.reduce((a, b) => a + b, 0);
  const micro = ratio(tpAll, total);
  return {
    perClass,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    micro: { precision: micro, recall: micro, f1: micro },
    weighted: { precision: weightedMean('precision'), recall: weightedMean('recall'), f1: weightedMean('f1') },
  };
}

export interface ConfusedPair {
  /** True class index. */
  trueClass: number;
  /** Predicted class index. */
  predClass: number;
  count: number;
  /** count / samples of the true class: how often this class is mistaken for that one. */
  rate: number;
}

/**
 * The `n` largest off-diagonal cells (true ≠ predicted) with a non-zero count, largest first;
 * equal counts in (true, predicted) index order, so the list is deterministic.
 */
export function mostConfusedPairs(cm: ConfusionMatrix, n = 10): ConfusedPair[] {
  const K = cm.numClasses;
  const pairs: ConfusedPair[] = [];
  for (let t = 0; t < K; t++) {
    let rowSum = 0;
    for (let p = 0; p < K; p++) rowSum += cm.at(t, p);
    for (let p = 0; p < K; p++) {
      const count = cm.at(t, p);
      if (t !== p && count > 0) pairs.push({ trueClass: t, predClass: p, count, rate: count / rowSum });
    }
  }
  pairs.sort((a, b) => b.count - a.count || a.trueClass - b.trueClass || a.predClass - b.predClass);
  return pairs.slice(0, n);
}
