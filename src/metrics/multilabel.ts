// Multi-label classification metrics: each of K labels is its own yes/no question, answered by one
// score per label (a logit, or the probability sigmoid(logit)); targets are N×K 0/1.
//
// Average precision, sklearn's `average_precision_score` (no interpolation), computed exactly: rank
// the samples by score, and at each distinct score (ties form one step, as sklearn's thresholds)
// add (R_k − R_{k−1}) · P_k, with P_k and R_k the precision and recall of "score ≥ that score".
// A label with no positive sample has no recall: its AP is null and it is left out of the mean
// (sklearn warns and counts it as 0 instead).
//
// F1 at a threshold: a label is predicted when its probability is > threshold (default 0.5, as
// torchmetrics). Per label F1 = 2tp / (2tp + fp + fn), 0 when that is 0/0 (sklearn's
// zero_division=0); macro = the mean over all K labels (sklearn's for multilabel indicators);
// micro = the same formula on the counts summed over labels.
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumClasses } from './batch.js';
import type { ScoreInputs } from './ranking.js';
import { loadSumsInto } from './reduce.js';
import type { Metric } from './types.js';

/** AP of one label: `scores` and 0/1 `positive` of the same length; null without positives. */
export function averagePrecision(scores: ArrayLike<number>, positive: ArrayLike<number>): number | null {
  const n = scores.length;
  if (positive.length !== n) throw new RangeError(`averagePrecision: ${n} scores but ${positive.length} targets`);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (scores[b] as number) - (scores[a] as number));
  let totalPositives = 0;
  for (let i = 0; i < n; i++) totalPositives += positive[i] as number;
  if (totalPositives === 0) return null;
  let [tp, fp, recallBefore, ap] = [0, 0, 0, 0];
  for (let i = 0; i < n; ) {
    const s = scores[order[i] as number] as number;
    for (; i < n && scores[order[i] as number] === s; i++) {
      if (positive[order[i] as number]) tp++;
      else fp++;
    }
    const recall = tp / totalPositives;
    ap += (recall - recallBefore) * (tp / (tp + fp));
    recallBefore = recall;
  }
  return ap;
}

export interface MultilabelAP {
  /** AP per label; null for a label without positive samples. */
  perClass: (number | null)[];
  /** Mean over the labels whose AP is defined; null when none is. */
  mean: number | null;
  undefinedClasses: number[];
}

/** Per-label and mean AP of N×K row-major `scores` (any monotone score: logits or probabilities) against N×K 0/1 `targets`. */
export function multilabelAveragePrecision(scores: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number): MultilabelAP {
  const n = checkMultilabelArrays('multilabelAveragePrecision', scores, targets, numClasses);
  const perClass: (number | null)[] = [];
  for (let k = 0; k < numClasses; k++) {
    const s = new Float64Array(n);
    const t = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = scores[i * numClasses + k] as number;
      t[i] = targets[i * numClasses + k] as number;
    }
    perClass.push(averagePrecision(s, t));
  }
  const defined = perClass.filter((a): a is number => a !== null);
  return {
    perClass,
    mean: defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length,
    undefinedClasses: perClass.flatMap((a, k) => (a === null ? [k] : [])),
  };
}

export interface LabelScores {
  precision: number;
  recall: number;
  f1: number;
  /** Samples with this label. */
  support: number;
}

export interface MultilabelF1 {
  perClass: LabelScores[];
  macro: { precision: number; recall: number; f1: number };
  micro: { precision: number; recall: number; f1: number };
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Precision, recall and F1 per label, macro and micro, from per-label counts. */
export function multilabelScores(tp: ArrayLike<number>, fp: ArrayLike<number>, fn: ArrayLike<number>): MultilabelF1 {
  const K = tp.length;
  const perClass: LabelScores[] = Array.from({ length: K }, (_, k) => {
    const [a, b, c] = [tp[k] as number, fp[k] as number, fn[k] as number];
    return { precision: ratio(a, a + b), recall: ratio(a, a + c), f1: ratio(2 * a, 2 * a + b + c), support: a + c };
  });
  const mean = (key: 'precision' | 'recall' | 'f1') => ratio(perClass.reduce((s, c) => s + c[key], 0), K);
  const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0);
  const [TP, FP, FN] = [sum(tp), sum(fp), sum(fn)];
  return {
    perClass,
    macro: { precision: mean('precision'), recall: mean('recall'), f1: mean('f1') },
    micro: { precision: ratio(TP, TP + FP), recall: ratio(TP, TP + FN), f1: ratio(2 * TP, 2 * TP + FP + FN) },
  };
}

/** F1 at `threshold` of N×K row-major probabilities against N×K 0/1 targets (see the top of this file). */
export function multilabelF1(probabilities: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number, threshold = 0.5): MultilabelF1 {
  checkMultilabelArrays('multilabelF1', probabilities, targets, numClasses);
  const [tp, fp, fn] = [new Float64Array(numClasses), new Float64Array(numClasses), new Float64Array(numClasses)];
  countLabels(probabilities, targets, threshold, tp, fp, fn);
  return multilabelScores(tp, fp, fn);
}

/** Adds the true positives, false positives and false negatives of N×K rows to the K counters. */
function countLabels(probabilities: ArrayLike<number>, targets: ArrayLike<number>, threshold: number, tp: Float64Array, fp: Float64Array, fn: Float64Array): void {
  const K = tp.length;
  for (let i = 0; i < probabilities.length; i++) {
    const [k, p, t] = [i % K, (probabilities[i] as number) > threshold, targets[i] === 1];
    if (p && t) tp[k] = (tp[k] as number) + 1;
    else if (p) fp[k] = (fp[k] as number) + 1;
    else if (t) fn[k] = (fn[k] as number) + 1;
  }
}

/** Checks N×K scores next to N×K 0/1 targets; returns N. */
function checkMultilabelArrays(who: string, scores: ArrayLike<number>, targets: ArrayLike<number>, numClasses: number): number {
  checkNumClasses(who, numClasses);
  if (scores.length !== targets.length || scores.length % numClasses !== 0)
    throw new RangeError(`${who}: scores and targets must both hold N×${numClasses} values (row-major), got ${scores.length} and ${targets.length}`);
  for (let i = 0; i < targets.length; i++) {
    const v = targets[i];
    if (v !== 0 && v !== 1) throw new RangeError(`${who}: target[${Math.floor(i / numClasses)}][${i % numClasses}] = ${String(v)} is not 0 or 1`);
    if (Number.isNaN(scores[i])) throw new RangeError(`${who}: score[${Math.floor(i / numClasses)}][${i % numClasses}] is NaN`);
  }
  return scores.length / numClasses;
}

/** One batch as float64 probabilities (sigmoid of logits, or as given) and 0/1 targets, checked. */
function batchOf(who: string, output: Tensor, target: Tensor, numClasses: number, inputs: ScoreInputs): { scores: Float64Array; targets: Float64Array } {
  if (output.dim() !== 2 || output.shape[1] !== numClasses) throw new RangeError(`${who}: output must be N×${numClasses} scores, got shape [${output.shape.join(', ')}]`);
  if (target.shape.join() !== output.shape.join()) throw new RangeError(`${who}: target must be N×${numClasses} 0/1 labels like the output [${output.shape.join(', ')}], got [${target.shape.join(', ')}]`);
  return scope(() => {
    const p = inputs === 'logits' ? output.double().sigmoid() : output.double();
    const targets = target.double().to('cpu').contiguous().data() as Float64Array;
    const bad = targets.findIndex((v) => v !== 0 && v !== 1);
    if (bad >= 0) throw new RangeError(`${who}: target[${Math.floor(bad / numClasses)}][${bad % numClasses}] = ${targets[bad]} is not 0 or 1`);
    return { scores: p.to('cpu').contiguous().data() as Float64Array, targets };
  });
}

export interface MultilabelMetricOptions {
  /** 'logits' (default: sigmoid first) or 'probabilities'. */
  inputs?: ScoreInputs;
  name?: string;
}

/**
 * Mean average precision over the labels with positives (NaN when none has). Every score is kept
 * until `compute` (N·K·16 bytes), because exact AP needs each label's scores sorted.
 */
export class MeanAveragePrecision implements Metric {
  readonly name: string;
  readonly mode = 'max' as const;
  readonly targets = 'task' as const;
  readonly numClasses: number;
  readonly inputs: ScoreInputs;
  #scores: Float64Array[] = [];
  #targets: Float64Array[] = [];

  constructor(numClasses: number, options: MultilabelMetricOptions = {}) {
    checkNumClasses('MeanAveragePrecision', numClasses);
    this.numClasses = numClasses;
    this.inputs = options.inputs ?? 'logits';
    this.name = options.name ?? 'map';
  }

  /** `output` N×K scores, `target` N×K 0/1 labels (any dtype). */
  update(output: Tensor, target: Tensor): void {
    const b = batchOf('MeanAveragePrecision.update', output, target, this.numClasses, this.inputs);
    this.#scores.push(b.scores);
    this.#targets.push(b.targets);
  }

  result(): MultilabelAP {
    const join = (parts: Float64Array[]) => {
      const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
      return out;
    };
    return multilabelAveragePrecision(join(this.#scores), join(this.#targets), this.numClasses);
  }

  compute(): number {
    return this.result().mean ?? Number.NaN;
  }

  reset(): void {
    this.#scores = [];
    this.#targets = [];
  }
}

/** F1 at a threshold, macro (default) or micro, from per-label counts kept over the set. */
export class MultilabelF1Score implements Metric {
  readonly name: string;
  readonly mode = 'max' as const;
  readonly targets = 'task' as const;
  readonly numClasses: number;
  readonly inputs: ScoreInputs;
  readonly threshold: number;
  readonly average: 'macro' | 'micro';
  readonly #tp: Float64Array;
  readonly #fp: Float64Array;
  readonly #fn: Float64Array;
  #count = 0;

  constructor(numClasses: number, options: MultilabelMetricOptions & { threshold?: number; average?: 'macro' | 'micro' } = {}) {
    checkNumClasses('MultilabelF1Score', numClasses);
    this.numClasses = numClasses;
    this.inputs = options.inputs ?? 'logits';
    this.threshold = options.threshold ?? 0.5;
    if (!(this.threshold >= 0 && this.threshold <= 1)) throw new RangeError(`MultilabelF1Score: threshold must be a probability in [0, 1], got ${this.threshold}`);
    this.average = options.average ?? 'macro';
    if (this.average !== 'macro' && this.average !== 'micro') throw new RangeError(`MultilabelF1Score: average must be 'macro' or 'micro', got '${String(this.average)}'`);
    this.name = options.name ?? `f1_${this.average}`;
    [this.#tp, this.#fp, this.#fn] = [new Float64Array(numClasses), new Float64Array(numClasses), new Float64Array(numClasses)];
  }

  update(output: Tensor, target: Tensor): void {
    const K = this.numClasses;
    const { scores, targets } = batchOf('MultilabelF1Score.update', output, target, K, this.inputs);
    countLabels(scores, targets, this.threshold, this.#tp, this.#fp, this.#fn);
    this.#count += scores.length / K;
  }

  result(): MultilabelF1 {
    return multilabelScores(this.#tp, this.#fp, this.#fn);
  }

  /** NaN before any sample. */
  compute(): number {
    return this.#count === 0 ? Number.NaN : this.result()[this.average].f1;
  }

  reset(): void {
    for (const a of [this.#tp, this.#fp, this.#fn]) a.fill(0);
    this.#count = 0;
  }

  /** Per label: true positives, then false positives, then false negatives; then the sample count. */
  sums(): Float64Array {
    const K = this.numClasses;
    const out = new Float64Array(3 * K + 1);
    [this.#tp, this.#fp, this.#fn].forEach((a, i) => out.set(a, i * K));
    out[3 * K] = this.#count;
    return out;
  }

  loadSums(sums: Float64Array): void {
    const count = new Float64Array(1);
    loadSumsInto(this.name, sums, this.#tp, this.#fp, this.#fn, count);
    this.#count = count[0] as number;
  }
}
