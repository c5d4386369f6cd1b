// The confusion matrix: K×K counts, row = true class, column = predicted class (sklearn's layout).
// Accuracy, precision, recall, F1 and the most-confused pairs are all functions of it
// (src/metrics/scores.ts), so one accumulator serves all of them and a pass over a set is exact.
import * as ops from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkArrays, checkNumClasses, DEFAULT_IGNORE_INDEX, keptTargets, labelsOf, type MetricOptions } from './batch.js';

export class ConfusionMatrix {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  /** Row-major K×K: `counts[t * K + p]` samples of true class t were predicted as p. */
  readonly counts: Float64Array;

  constructor(numClasses: number, options: MetricOptions = {}) {
    checkNumClasses('ConfusionMatrix', numClasses);
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /**
   * Adds a batch. `output`: N×K scores (logits or probabilities: the prediction is the argmax,
   * the first index among ties) or N predicted class indices (integer). `target`: N int64.
   * The batch is reduced on the tensors' device (argmax, bincount); only K² counts come back.
   */
  update(output: Tensor, target: Tensor): void {
    const K = this.numClasses;
    const who = 'ConfusionMatrix.update';
    const batch = scope(() => {
      let pred: Tensor;
      if (output.ndim === 2) {
        if (output.shape[1] !== K) throw new RangeError(`${who}: output must be N×${K} scores, got shape [${output.shape.join(', ')}]`);
        pred = ops.argmax(output, 1);
      } else if (output.ndim === 1 && (output.dtype === 'int64' || output.dtype === 'int32')) {
        pred = output.long();
        if (ops.any(ops.logicalOr(ops.lt(pred, 0), ops.ge(pred, K))).item())
          throw new RangeError(`${who}: predicted classes must lie in [0, ${K}), got ${String(ops.maskedSelect(pred, ops.logicalOr(ops.lt(pred, 0), ops.ge(pred, K))).data()[0])}`);
      } else {
        throw new RangeError(`${who}: output must be N×${K} scores or N integer class predictions, got ${output.dtype} [${output.shape.join(', ')}]`);
      }
      const t = keptTargets(who, target, output.shape[0] as number, K, this.ignoreIndex, output.device);
      if (!t.all) pred = ops.indexSelect(pred, 0, t.rows);
      // (true, pred) → one bin of K², counted in one bincount.
      const cell = ops.add(ops.mul(t.target, K), pred);
      return ops.bincount(cell, { minlength: K * K }).to('cpu').data() as BigInt64Array;
    });
    for (let i = 0; i < batch.length; i++) this.counts[i] = (this.counts[i] as number) + Number(batch[i]);
  }

  /** Adds labels given as plain arrays (the full-array form); labels equal to the ignore index are skipped. */
  addLabels(yTrue: ArrayLike<number> | BigInt64Array, yPred: ArrayLike<number> | BigInt64Array): void {
    const K = this.numClasses;
    const t = checkArrays('ConfusionMatrix.addLabels', null, yTrue, K, this.ignoreIndex);
    const p = labelsOf(yPred);
    if (p.length !== t.length) throw new RangeError(`ConfusionMatrix.addLabels: ${t.length} true labels but ${p.length} predictions`);
    for (let i = 0; i < t.length; i++) {
      const ti = t[i] as number;
      if (ti === this.ignoreIndex) continue;
      const pi = p[i] as number;
      if (!(Number.isInteger(pi) && pi >= 0 && pi < K)) throw new RangeError(`ConfusionMatrix.addLabels: prediction[${i}] = ${pi} is not a class index in [0, ${K})`);
      this.counts[ti * K + pi] = (this.counts[ti * K + pi] as number) + 1;
    }
  }

  reset(): void {
    this.counts.fill(0);
  }

  /** Samples counted so far. */
  get total(): number {
    let s = 0;
    for (const c of this.counts) s += c;
    return s;
  }

  /** Count of true class `t` predicted as `p`. */
  at(t: number, p: number): number {
    return this.counts[t * this.numClasses + p] as number;
  }

  /** The counts as K rows (row = true class). */
  rows(): number[][] {
    const K = this.numClasses;
    return Array.from({ length: K }, (_, t) => Array.from(this.counts.subarray(t * K, (t + 1) * K)));
  }

  /** Each row divided by its sum (the recall view); a class with no samples gives a row of zeros. */
  normalizedRows(): number[][] {
    return this.rows().map((row) => {
      const n = row.reduce((a, b) => a + b, 0);
      return row.map((c) => (n === 0 ? 0 : c / n));
    });
  }
}

/** The confusion matrix of full label arrays (labels equal to `ignoreIndex` are skipped). */
export function confusionMatrix(yTrue: ArrayLike<number> | BigInt64Array, yPred: ArrayLike<number> | BigInt64Array, numClasses: number, options: MetricOptions = {}): ConfusionMatrix {
  const cm = new ConfusionMatrix(numClasses, options);
  cm.addLabels(yTrue, yPred);
  return cm;
}

/** The argmax of each row of N×K row-major scores (the first index among ties, as torch.argmax). */
export function argmaxRows(scores: ArrayLike<number>, numClasses: number): Int32Array {
  const n = Math.floor(scores.length / numClasses);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < numClasses; k++) if ((scores[i * numClasses + k] as number) > (scores[i * numClasses + best] as number)) best = k;
    out[i] = best;
  }
  return out;
}
