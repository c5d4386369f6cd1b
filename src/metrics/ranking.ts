// Metrics that look at the order of the scores, not only the argmax: top-k accuracy and ROC-AUC.
import * as ops from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadSumsInto } from './reduce.js';
import type { Metric } from './types.js';
import { checkArrays, checkNumClasses, DEFAULT_IGNORE_INDEX, keptRows, type MetricOptions } from './batch.js';

function checkK(who: string, k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${who}: k must be a positive integer, got ${k}`);
}

/**
 * Top-k accuracy: the true class is among the k highest scores. Ties are broken by class index
 * (a stable descending sort), so top-1 agrees with argmax and the result never depends on how a
 * sort kernel orders equal values: rank(t) = #{j : s_j > s_t} + #{j < t : s_j = s_t}, hit if rank < k.
 */
export class TopKAccuracy implements Metric {
  readonly name: string;
  readonly mode = 'max' as const;
  readonly k: number;
  readonly numClasses: number;
  readonly ignoreIndex: number;
  #hits = 0;
  #count = 0;

  constructor(numClasses: number, k: number, options: MetricOptions & { name?: string } = {}) {
    checkNumClasses('TopKAccuracy', numClasses);
    checkK('TopKAccuracy', k);
    this.numClasses = numClasses;
    this.k = k;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.name = options.name ?? `top${k}`;
  }

  update(output: Tensor, target: Tensor): void {
    const K = this.numClasses;
    const [hits, n] = scope(() => {
      const { scores, target: t } = keptRows('TopKAccuracy.update', output, target, K, this.ignoreIndex);
      const n = t.shape[0] as number;
      if (n === 0) return [0, 0];
      const col = t.view([n, 1]); // (n, 1)
      const own = ops.gather(scores, 1, col); // (n, 1): the true class's score
      const classIndex = ops.arange(K, { device: scores.device }).view([1, K]); // (1, K)
      const ahead = ops.logicalOr(ops.gt(scores, own), ops.logicalAnd(ops.eq(scores, own), ops.lt(classIndex, col))); // (n, K)
      const rank = ops.sum(ahead, 1); // (n,)
      return [Number(ops.sum(ops.lt(rank, this.k)).item()), n];
    });
    this.#hits += hits;
    this.#count += n;
  }

  /** NaN before any sample was counted. */
  compute(): number {
    return this.#count === 0 ? Number.NaN : this.#hits / this.#count;
  }

  reset(): void {
    this.#hits = 0;
    this.#count = 0;
  }

  /** [hits, samples]. */
  sums(): Float64Array {
    return Float64Array.of(this.#hits, this.#count);
  }

  loadSums(sums: Float64Array): void {
    const s = new Float64Array(2);
    loadSumsInto(this.name, sums, s);
    [this.#hits, this.#count] = [s[0] as number, s[1] as number];
  }
}

/** Top-k accuracy of N×K row-major scores (same tie rule as {@link TopKAccuracy}). */
export function topKAccuracy(scores: ArrayLike<number>, labels: ArrayLike<number> | BigInt64Array, numClasses: number, k: number, options: MetricOptions = {}): number {
  const ignore = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const y = checkArrays('topKAccuracy', scores, labels, numClasses, ignore);
  checkK('topKAccuracy', k);
  let hits = 0;
  let count = 0;
  for (let i = 0; i < y.length; i++) {
    const t = y[i] as number;
    if (t === ignore) continue;
    const own = scores[i * numClasses + t] as number;
    let rank = 0;
    for (let j = 0; j < numClasses; j++) {
      const s = scores[i * numClasses + j] as number;
      if (s > own || (s === own && j < t)) rank++;
    }
    count++;
    if (rank < k) hits++;
  }
  return count === 0 ? Number.NaN : hits / count;
}

export interface RocAucResult {
  /** One-vs-rest AUC per class; null where the class has no positives or no negatives (undefined). */
  perClass: (number | null)[];
  /** Mean over the classes whose AUC is defined; null when none is. */
  macro: number | null;
  /** Mean over the defined classes weighted by their number of positives; null when none is defined. */
  weighted: number | null;
  /** The classes left out of the averages because their AUC is undefined. */
  undefinedClasses: number[];
}

/**
 * Exact area under the ROC curve of one class against the rest, with ties counted as half
 * (the trapezoidal ROC area, equal to the Mann–Whitney U statistic / (P·N)).
 * `pos` and `neg` are the scores of the positive and negative samples; they are sorted in place.
 */
export function binaryAuc(pos: Float64Array, neg: Float64Array): number | null {
  if (pos.length === 0 || neg.length === 0) return null;
  pos.sort();
  neg.sort();
  let below = 0; // negatives with score < s
  let upTo = 0; // negatives with score <= s
  let sum = 0;
  for (const s of pos) {
    while (below < neg.length && (neg[below] as number) < s) below++;
    if (upTo < below) upTo = below;
    while (upTo < neg.length && (neg[upTo] as number) === s) upTo++;
    sum += below + 0.5 * (upTo - below);
  }
  return sum / (pos.length * neg.length);
}

/**
 * One-vs-rest ROC-AUC of N×K row-major scores (probabilities, as sklearn's `multi_class='ovr'`):
 * class k's AUC ranks column k with class-k samples as positives. A class with no positives
 * (absent from the labels) or no negatives has no ROC curve: its AUC is null and it is left out
 * of the averages and listed in `undefinedClasses` (sklearn refuses such input instead).
 */
export function rocAucOvr(scores: ArrayLike<number>, labels: ArrayLike<number> | BigInt64Array, numClasses: number, options: MetricOptions = {}): RocAucResult {
  const ignore = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const y = checkArrays('rocAucOvr', scores, labels, numClasses, ignore);
  const kept: number[] = [];
  for (let i = 0; i < y.length; i++) if (y[i] !== ignore) kept.push(i);
  const positives = new Float64Array(numClasses);
  for (const i of kept) {
    const k = y[i] as number;
    positives[k] = (positives[k] as number) + 1;
  }
  const perClass: (number | null)[] = [];
  for (let k = 0; k < numClasses; k++) {
    const pos = new Float64Array(positives[k] as number);
    const neg = new Float64Array(kept.length - (positives[k] as number));
    let p = 0;
    let q = 0;
    for (const i of kept) {
      const s = scores[i * numClasses + k] as number;
      if (Number.isNaN(s)) throw new RangeError(`rocAucOvr: score[${i}][${k}] is NaN`);
      if (y[i] === k) pos[p++] = s;
      else neg[q++] = s;
    }
    perClass.push(binaryAuc(pos, neg));
  }
  const defined = perClass.flatMap((a, k) => (a === null ? [] : [{ auc: a, weight: positives[k] as number }]));
  const undefinedClasses = perClass.flatMap((a, k) => (a === null ? [k] : []));
  if (defined.length === 0) return { perClass, macro: null, weighted: null, undefinedClasses };
  const macro = defined.reduce((s, d) => s + d.auc, 0) / defined.length;
  const weighted = defined.reduce((s, d) => s + d.auc * d.weight, 0) / defined.reduce((s, d) => s + d.weight, 0);
  return { perClass, macro, weighted, undefinedClasses };
}

/** Rows of scores gathered batch by batch into one growing float64 buffer (N·K·8 bytes). */
export class ScoreBuffer {
  readonly numClasses: number;
  #scores = new Float64Array(0);
  #labels = new Int32Array(0);
  #n = 0;

  constructor(numClasses: number) {
    this.numClasses = numClasses;
  }

  get length(): number {
    return this.#n;
  }

  /** Appends n rows (`scores`: n×K row-major) and their n labels. */
  append(scores: Float64Array, labels: BigInt64Array): void {
    const K = this.numClasses;
    const n = labels.length;
    if (this.#n + n > this.#labels.length) {
      const cap = Math.max(1024, 2 * (this.#n + n));
      const s = new Float64Array(cap * K);
      s.set(this.#scores.subarray(0, this.#n * K));
      const l = new Int32Array(cap);
      l.set(this.#labels.subarray(0, this.#n));
      this.#scores = s;
      this.#labels = l;
    }
    this.#scores.set(scores, this.#n * K);
    for (let i = 0; i < n; i++) this.#labels[this.#n + i] = Number(labels[i]);
    this.#n += n;
  }

  scores(): Float64Array {
    return this.#scores.subarray(0, this.#n * this.numClasses);
  }

  labels(): Int32Array {
    return this.#labels.subarray(0, this.#n);
  }

  clear(): void {
    this.#n = 0;
  }
}

export type ScoreInputs = 'logits' | 'probabilities';

/** Probabilities of the kept rows as float64 (softmax of logits in float64, or the given probabilities). */
export function keptProbabilities(who: string, output: Tensor, target: Tensor, numClasses: number, ignoreIndex: number, inputs: ScoreInputs): { probs: Float64Array; labels: BigInt64Array } {
  return scope(() => {
    const { scores, target: t } = keptRows(who, output, target, numClasses, ignoreIndex);
    const probs = inputs === 'logits' ? ops.softmax(scores, 1, { dtype: 'float64' }) : scores.double();
    return { probs: probs.to('cpu').contiguous().data() as Float64Array, labels: t.to('cpu').data() as BigInt64Array };
  });
}

/**
 * One-vs-rest ROC-AUC over a set (macro average; see {@link rocAucOvr}). The scores of every
 * sample are kept until `compute` (N·K·8 bytes) because the exact AUC needs them all sorted.
 * `inputs`: 'logits' (default; softmax first, as the probabilities sklearn ranks) or 'probabilities'.
 * `compute()` is NaN when no class has both positives and negatives.
 */
export class RocAuc implements Metric {
  readonly name: string;
  readonly mode = 'max' as const;
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly inputs: ScoreInputs;
  readonly #buffer: ScoreBuffer;

  constructor(numClasses: number, options: MetricOptions & { inputs?: ScoreInputs; name?: string } = {}) {
    checkNumClasses('RocAuc', numClasses);
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.inputs = options.inputs ?? 'logits';
    this.name = options.name ?? 'auc';
    this.#buffer = new ScoreBuffer(numClasses);
  }

  update(output: Tensor, target: Tensor): void {
    const { probs, labels } = keptProbabilities('RocAuc.update', output, target, this.numClasses, this.ignoreIndex, this.inputs);
    this.#buffer.append(probs, labels);
  }

  /** The full result: per class, macro, weighted, undefined classes. */
  result(): RocAucResult {
    return rocAucOvr(this.#buffer.scores(), this.#buffer.labels(), this.numClasses, { ignoreIndex: this.ignoreIndex });
  }

  compute(): number {
    return this.result().macro ?? Number.NaN;
  }

  reset(): void {
    this.#buffer.clear();
  }
}
