// The confusion-matrix metrics as `Metric`s, and `createMetric`, which turns the names used in
// configs and logs (`accuracy`, `top5`, `f1_macro`, `auc`, `ece`, `loss`) into metrics.
import type { Tensor } from '../tensor/tensor.js';
import type { Metric } from './types.js';
import type { MetricOptions } from './batch.js';
import { CalibrationError, MeanLoss } from './calibration.js';
import { ConfusionMatrix } from './confusion.js';
import { RocAuc, TopKAccuracy } from './ranking.js';
import { loadSumsInto } from './reduce.js';
import { accuracyOf, precisionRecallF1, type Average } from './scores.js';

/** A metric read off a confusion matrix accumulated over the set (classification here; segmentation's pixels in segmentation.ts). */
export abstract class ConfusionMetric implements Metric {
  abstract readonly name: string;
  readonly mode = 'max' as const;
  readonly matrix: ConfusionMatrix;

  constructor(numClasses: number, options: MetricOptions) {
    this.matrix = new ConfusionMatrix(numClasses, options);
  }

  update(output: Tensor, target: Tensor): void {
    this.matrix.update(output, target);
  }

  abstract compute(): number;

  reset(): void {
    this.matrix.reset();
  }

  /** The K×K counts. */
  sums(): Float64Array {
    return this.matrix.counts.slice();
  }

  loadSums(sums: Float64Array): void {
    loadSumsInto(this.name, sums, this.matrix.counts);
  }
}

/** Fraction of samples whose argmax is the target. NaN before any sample was counted. */
export class Accuracy extends ConfusionMetric {
  readonly name: string;
  constructor(numClasses: number, options: MetricOptions & { name?: string } = {}) {
    super(numClasses, options);
    this.name = options.name ?? 'accuracy';
  }
  compute(): number {
    return accuracyOf(this.matrix);
  }
}

type Score = 'precision' | 'recall' | 'f1';

class AveragedScore extends ConfusionMetric {
  readonly name: string;
  readonly average: Average;
  readonly #score: Score;
  constructor(score: Score, numClasses: number, options: MetricOptions & { average?: Average; name?: string }) {
    super(numClasses, options);
    this.#score = score;
    this.average = options.average ?? 'macro';
    this.name = options.name ?? `${score}_${this.average}`;
  }
  /** NaN before any sample was counted. */
  compute(): number {
    if (this.matrix.total === 0) return Number.NaN;
    return precisionRecallF1(this.matrix)[this.average][this.#score];
  }
}

/** Precision averaged over classes (see src/metrics/scores.ts for averages and zero division). */
export class Precision extends AveragedScore {
  constructor(numClasses: number, options: MetricOptions & { average?: Average; name?: string } = {}) {
    super('precision', numClasses, options);
  }
}

export class Recall extends AveragedScore {
  constructor(numClasses: number, options: MetricOptions & { average?: Average; name?: string } = {}) {
    super('recall', numClasses, options);
  }
}

export class F1Score extends AveragedScore {
  constructor(numClasses: number, options: MetricOptions & { average?: Average; name?: string } = {}) {
    super('f1', numClasses, options);
  }
}

export const METRIC_NAMES = ['accuracy', 'top<k>', 'precision_<avg>', 'recall_<avg>', 'f1_<avg>', 'auc', 'ece', 'loss'] as const;

/**
 * The metric a config or command line names: `accuracy`, `top<k>` (e.g. `top5`),
 * `precision|recall|f1` with an optional `_macro|_micro|_weighted` (default macro), `auc`
 * (one-vs-rest, macro), `ece`, `loss`. The outputs are logits.
 */
export function createMetric(name: string, numClasses: number, options: MetricOptions = {}): Metric {
  const top = /^top(\d+)$/.exec(name);
  if (top) return new TopKAccuracy(numClasses, Number(top[1]), options);
  const avg = /^(precision|recall|f1)(?:_(macro|micro|weighted))?$/.exec(name);
  if (avg) {
    const o = { ...options, average: (avg[2] ?? 'macro') as Average, name };
    if (avg[1] === 'precision') return new Precision(numClasses, o);
    if (avg[1] === 'recall') return new Recall(numClasses, o);
    return new F1Score(numClasses, o);
  }
  switch (name) {
    case 'accuracy':
      return new Accuracy(numClasses, options);
    case 'auc':
      return new RocAuc(numClasses, options);
    case 'ece':
      return new CalibrationError(numClasses, options);
    case 'loss':
      return new MeanLoss(numClasses, options);
    default:
      throw new RangeError(`unknown metric '${name}': expected one of ${METRIC_NAMES.join(', ')}`);
  }
}
