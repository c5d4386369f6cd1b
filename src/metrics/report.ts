// Everything about a classifier on one set, as one JSON-serialisable object: the final test
// section of a run report. `classificationReport` computes it from full arrays of probabilities;
// `ClassificationEvaluator` gathers the same arrays batch by batch from logits (and keeps the
// exact mean cross-entropy and the highest-loss samples on the way).
import * as ops from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkArrays, checkNumClasses, DEFAULT_IGNORE_INDEX, keptRows, type MetricOptions } from './batch.js';
import { expectedCalibrationError, meanLogLoss, type CalibrationBin } from './calibration.js';
import { argmaxRows, confusionMatrix } from './confusion.js';
import { rocAucOvr, ScoreBuffer, topKAccuracy } from './ranking.js';
import { accuracyOf, mostConfusedPairs, precisionRecallF1, type AveragedScores } from './scores.js';

export interface ClassReport {
  index: number;
  name: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** One-vs-rest ROC-AUC; null when the class has no positives or no negatives in the set. */
  auc: number | null;
}

export interface ClassificationReport {
  classes: string[];
  /** Samples counted (targets equal to the ignore index are not). */
  numSamples: number;
  /** null when no sample was counted (as every other rate here). */
  accuracy: number | null;
  topK: { k: number; accuracy: number | null }[];
  /** Mean cross-entropy (from logits when accumulated, −log p from probabilities otherwise). */
  loss: number | null;
  perClass: ClassReport[];
  macro: AveragedScores & { auc: number | null };
  micro: AveragedScores;
  weighted: AveragedScores & { auc: number | null };
  /** Classes without a defined AUC (no positives or no negatives), left out of the AUC averages. */
  aucUndefined: string[];
  /** Row = true class, column = predicted class. `normalized` divides each row by its sum. */
  confusion: { counts: number[][]; normalized: number[][] };
  mostConfused: { trueClass: number; predClass: number; trueName: string; predName: string; count: number; rate: number }[];
  calibration: { ece: number | null; bins: CalibrationBin[] };
}

export interface ReportOptions extends MetricOptions {
  /** Class names, index i = class i (default `0`, `1`, ...). */
  classes?: readonly string[];
  /** Which top-k accuracies to report (default 1 and 5; values above K are dropped). */
  topK?: readonly number[];
  /** How many most-confused pairs (default 10). */
  mostConfused?: number;
  /** Calibration bins (default 15). */
  bins?: number;
  /** Mean loss to report instead of −log p computed from the probabilities. */
  loss?: number;
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** The full report of N×K row-major probabilities and N labels. */
export function classificationReport(probabilities: ArrayLike<number>, labels: ArrayLike<number> | BigInt64Array, numClasses: number, options: ReportOptions = {}): ClassificationReport {
  const K = numClasses;
  const ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const y = checkArrays('classificationReport', probabilities, labels, K, ignoreIndex);
  const classes = options.classes ? [...options.classes] : Array.from({ length: K }, (_, k) => String(k));
  if (classes.length !== K) throw new RangeError(`classificationReport: ${classes.length} class names for ${K} classes`);
  const m = { ignoreIndex };
  const cm = confusionMatrix(y, argmaxRows(probabilities, K), K, m);
  const prf = precisionRecallF1(cm);
  const auc = rocAucOvr(probabilities, y, K, m);
  const calibration = expectedCalibrationError(probabilities, y, K, { ...m, bins: options.bins ?? 15 });
  const loss = options.loss ?? meanLogLoss(probabilities, y, K, m);
  const name = (k: number): string => classes[k] as string;
  return {
    classes,
    numSamples: cm.total,
    accuracy: orNull(accuracyOf(cm)),
    topK: (options.topK ?? [1, 5]).filter((k) => k <= K).map((k) => ({ k, accuracy: orNull(topKAccuracy(probabilities, y, K, k, m)) })),
    loss: orNull(loss),
    perClass: prf.perClass.map((c, k) => ({ index: k, name: name(k), ...c, auc: auc.perClass[k] ?? null })),
    macro: { ...prf.macro, auc: auc.macro },
    micro: prf.micro,
    weighted: { ...prf.weighted, auc: auc.weighted },
    aucUndefined: auc.undefinedClasses.map(name),
    confusion: { counts: cm.rows(), normalized: cm.normalizedRows() },
    mostConfused: mostConfusedPairs(cm, options.mostConfused ?? 10).map((p) => ({ ...p, trueName: name(p.trueClass), predName: name(p.predClass) })),
    calibration: { ece: orNull(calibration.ece), bins: calibration.bins },
  };
}

/** A sample the model got most wrong: where to find it and what the model said. */
export interface HighLossSample {
  /** Position in the evaluated stream (0-based over every row passed to `update`, ignored ones included). */
  index: number;
  target: number;
  pred: number;
  /** Probability of the predicted class and of the true class. */
  predProbability: number;
  targetProbability: number;
  loss: number;
}

/**
 * Gathers a set's logits batch by batch for {@link classificationReport}: probabilities (float64,
 * N·K·8 bytes, needed for the exact AUC), labels, the exact mean cross-entropy from the logits,
 * and the `keepHighestLoss` samples with the largest loss (for the report's gallery).
 */
export class ClassificationEvaluator {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly keepHighestLoss: number;
  readonly #buffer: ScoreBuffer;
  #lossSum = 0;
  #seen = 0;
  #worst: HighLossSample[] = [];

  constructor(numClasses: number, options: MetricOptions & { keepHighestLoss?: number } = {}) {
    checkNumClasses('ClassificationEvaluator', numClasses);
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.keepHighestLoss = options.keepHighestLoss ?? 16;
    this.#buffer = new ScoreBuffer(numClasses);
  }

  /** Adds a batch: `output` N×K logits, `target` N int64. */
  update(output: Tensor, target: Tensor): void {
    const K = this.numClasses;
    const batch = scope(() => {
      const { scores, target: t, rows } = keptRows('ClassificationEvaluator.update', output, target, K, this.ignoreIndex);
      const x = scores.double();
      return {
        probs: ops.softmax(x, 1).to('cpu').contiguous().data() as Float64Array,
        losses: ops.crossEntropyLoss(x, t, { reduction: 'none' }).to('cpu').data() as Float64Array,
        labels: t.to('cpu').data() as BigInt64Array,
        rows: rows.to('cpu').data() as BigInt64Array,
      };
    });
    this.#buffer.append(batch.probs, batch.labels);
    const pred = argmaxRows(batch.probs, K);
    for (let i = 0; i < batch.losses.length; i++) {
      const loss = batch.losses[i] as number;
      this.#lossSum += loss;
      this.#offer(loss, () => {
        const target = Number(batch.labels[i]);
        const p = pred[i] as number;
        return { index: this.#seen + Number(batch.rows[i]), target, pred: p, predProbability: batch.probs[i * K + p] as number, targetProbability: batch.probs[i * K + target] as number, loss };
      });
    }
    this.#seen += output.shape[0] as number;
  }

  #offer(loss: number, make: () => HighLossSample): void {
    const n = this.keepHighestLoss;
    if (n === 0) return;
    const worst = this.#worst;
    if (worst.length === n && loss <= (worst[n - 1] as HighLossSample).loss) return;
    let at = worst.findIndex((w) => loss > w.loss);
    if (at < 0) at = worst.length;
    worst.splice(at, 0, make());
    if (worst.length > n) worst.pop();
  }

  /** Samples counted so far. */
  get length(): number {
    return this.#buffer.length;
  }

  /** The highest-loss samples, largest loss first (ties: the earlier sample first). */
  highestLoss(): HighLossSample[] {
    return this.#worst.map((w) => ({ ...w }));
  }

  report(options: Omit<ReportOptions, 'ignoreIndex' | 'loss'> = {}): ClassificationReport {
    const n = this.#buffer.length;
    return classificationReport(this.#buffer.scores(), this.#buffer.labels(), this.numClasses, { ...options, ignoreIndex: this.ignoreIndex, loss: n === 0 ? Number.NaN : this.#lossSum / n });
  }

  reset(): void {
    this.#buffer.clear();
    this.#lossSum = 0;
    this.#seen = 0;
    this.#worst = [];
  }
}
