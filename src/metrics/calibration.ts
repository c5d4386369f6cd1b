// Calibration (does a 0.8 confidence mean right 80% of the time?) and the mean loss.
import * as ops from '../tensor/generated/ops.js';
import { tensor } from '../tensor/factories.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { loadSumsInto } from './reduce.js';
import type { Metric } from './types.js';
import { checkArrays, checkNumClasses, DEFAULT_IGNORE_INDEX, keptRows, type MetricOptions } from './batch.js';
import { argmaxRows } from './confusion.js';
import type { ScoreInputs } from './ranking.js';

export interface CalibrationBin {
  /** The bin holds confidences in (lower, upper] (the first bin also holds 0). */
  lower: number;
  upper: number;
  count: number;
  /** Mean top-1 confidence of the samples in the bin; null when the bin is empty. */
  confidence: number | null;
  /** Fraction of them predicted correctly; null when the bin is empty. */
  accuracy: number | null;
}

export interface CalibrationResult {
  /** Σ_b (n_b / N)·|accuracy_b − confidence_b|; NaN when no sample was counted. */
  ece: number;
  bins: CalibrationBin[];
}

function checkBins(who: string, bins: number): void {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`${who}: bins must be a positive integer, got ${bins}`);
}

/** Upper edges of `bins` equal-width bins over [0, 1]: (i + 1) / bins. */
function upperEdges(bins: number): Float64Array {
  return Float64Array.from({ length: bins }, (_, i) => (i + 1) / bins);
}

function result(bins: number, count: Float64Array, confSum: Float64Array, hitSum: Float64Array): CalibrationResult {
  const upper = upperEdges(bins);
  const total = count.reduce((a, b) => a + b, 0);
  let ece = 0;
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const n = count[b] as number;
    const confidence = n === 0 ? null : (confSum[b] as number) / n;
    const accuracy = n === 0 ? null : (hitSum[b] as number) / n;
    if (n > 0) ece += (n / total) * Math.abs((accuracy as number) - (confidence as number));
    out.push({ lower: b === 0 ? 0 : (upper[b - 1] as number), upper: upper[b] as number, count: n, confidence, accuracy });
  }
  return { ece: total === 0 ? Number.NaN : ece, bins: out };
}

/**
 * Expected calibration error (Guo et al. 2017) of N×K row-major probabilities: each sample's
 * top-1 confidence (its largest probability; prediction = first argmax) goes into one of `bins`
 * equal-width bins (default 15).
 */
export function expectedCalibrationError(probabilities: ArrayLike<number>, labels: ArrayLike<number> | BigInt64Array, numClasses: number, options: MetricOptions & { bins?: number } = {}): CalibrationResult {
  const ignore = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const bins = options.bins ?? 15;
  checkBins('expectedCalibrationError', bins);
  const y = checkArrays('expectedCalibrationError', probabilities, labels, numClasses, ignore);
  const upper = upperEdges(bins);
  const pred = argmaxRows(probabilities, numClasses);
  const count = new Float64Array(bins);
  const confSum = new Float64Array(bins);
  const hitSum = new Float64Array(bins);
  for (let i = 0; i < y.length; i++) {
    if (y[i] === ignore) continue;
    const conf = probabilities[i * numClasses + (pred[i] as number)] as number;
    let b = 0;
    while (b < bins - 1 && conf > (upper[b] as number)) b++;
    count[b] = (count[b] as number) + 1;
    confSum[b] = (confSum[b] as number) + conf;
    if (pred[i] === y[i]) hitSum[b] = (hitSum[b] as number) + 1;
  }
  return result(bins, count, confSum, hitSum);
}

/**
 * Expected calibration error over a set, binned on the device batch by batch (bucketize,
 * bincount): only 3 × bins numbers per batch come back. `inputs`: 'logits' (default; softmax in
 * float64 first) or 'probabilities'.
 */
export class CalibrationError implements Metric {
  readonly name: string;
  readonly mode = 'min' as const;
  readonly numClasses: number;
  readonly bins: number;
  readonly ignoreIndex: number;
  readonly inputs: ScoreInputs;
  readonly #count: Float64Array;
  readonly #confSum: Float64Array;
  readonly #hitSum: Float64Array;

  constructor(numClasses: number, options: MetricOptions & { bins?: number; inputs?: ScoreInputs; name?: string } = {}) {
    checkNumClasses('CalibrationError', numClasses);
    this.numClasses = numClasses;
    this.bins = options.bins ?? 15;
    checkBins('CalibrationError', this.bins);
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.inputs = options.inputs ?? 'logits';
    this.name = options.name ?? 'ece';
    this.#count = new Float64Array(this.bins);
    this.#confSum = new Float64Array(this.bins);
    this.#hitSum = new Float64Array(this.bins);
  }

  update(output: Tensor, target: Tensor): void {
    const B = this.bins;
    const sums = scope(() => {
      const { scores, target: t } = keptRows('CalibrationError.update', output, target, this.numClasses, this.ignoreIndex);
      const probs = this.inputs === 'logits' ? ops.softmax(scores, 1, { dtype: 'float64' }) : scores.double();
      const pred = ops.argmax(probs, 1); // (n,)
      const conf = ops.gather(probs, 1, pred.view([-1, 1])).view(-1); // (n,)
      const hit = ops.eq(pred, t).double();
      // Inner edges only: bucketize gives bin b for edges[b-1] < conf <= edges[b].
      const edges = tensor(upperEdges(B).subarray(0, B - 1), { device: probs.device });
      const bin = ops.bucketize(conf, edges);
      const parts = [ops.bincount(bin, { minlength: B }).double(), ops.bincount(bin, { weights: conf, minlength: B }), ops.bincount(bin, { weights: hit, minlength: B })];
      return ops.cat(parts).to('cpu').data() as Float64Array;
    });
    for (let b = 0; b < B; b++) {
      this.#count[b] = (this.#count[b] as number) + (sums[b] as number);
      this.#confSum[b] = (this.#confSum[b] as number) + (sums[B + b] as number);
      this.#hitSum[b] = (this.#hitSum[b] as number) + (sums[2 * B + b] as number);
    }
  }

  /** ECE and the reliability diagram's bins. */
  result(): CalibrationResult {
    return result(this.bins, this.#count, this.#confSum, this.#hitSum);
  }

  compute(): number {
    return this.result().ece;
  }

  reset(): void {
    this.#count.fill(0);
    this.#confSum.fill(0);
    this.#hitSum.fill(0);
  }

  /** Per bin: samples, then confidence sums, then hits. */
  sums(): Float64Array {
    const out = new Float64Array(3 * this.bins);
    [this.#count, this.#confSum, this.#hitSum].forEach((a, i) => out.set(a, i * this.bins));
    return out;
  }

  loadSums(sums: Float64Array): void {
    loadSumsInto(this.name, sums, this.#count, this.#confSum, this.#hitSum);
  }
}

/**
 * Mean cross-entropy over a set: Σ losses / samples counted, summed in float64, so the value is
 * exact over the set rather than a mean of batch means. `inputs`: 'logits' (default) or
 * 'probabilities' (then −log p of the true class).
 */
export class MeanLoss implements Metric {
  readonly name: string;
  readonly mode = 'min' as const;
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly inputs: ScoreInputs;
  #sum = 0;
  #count = 0;

  constructor(numClasses: number, options: MetricOptions & { inputs?: ScoreInputs; name?: string } = {}) {
    checkNumClasses('MeanLoss', numClasses);
    this.numClasses = numClasses;
    this.ignoreIndex = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
    this.inputs = options.inputs ?? 'logits';
    this.name = options.name ?? 'loss';
  }

  update(output: Tensor, target: Tensor): void {
    const [sum, n] = scope(() => {
      const { scores, target: t } = keptRows('MeanLoss.update', output, target, this.numClasses, this.ignoreIndex);
      const n = t.shape[0] as number;
      if (n === 0) return [0, 0];
      const x = scores.double();
      const loss = this.inputs === 'logits' ? ops.crossEntropyLoss(x, t, { reduction: 'sum' }) : ops.nllLoss(ops.log(x), t, { reduction: 'sum' });
      return [loss.item() as number, n];
    });
    this.addSum(sum, n);
  }

  /** Adds a loss already computed elsewhere: the sum over `count` samples (e.g. the trainer's batch mean × batch size). */
  addSum(sum: number, count: number): void {
    this.#sum += sum;
    this.#count += count;
  }

  /** NaN before any sample was counted. */
  compute(): number {
    return this.#count === 0 ? Number.NaN : this.#sum / this.#count;
  }

  reset(): void {
    this.#sum = 0;
    this.#count = 0;
  }

  /** [loss sum, samples]. */
  sums(): Float64Array {
    return Float64Array.of(this.#sum, this.#count);
  }

  loadSums(sums: Float64Array): void {
    const s = new Float64Array(2);
    loadSumsInto(this.name, sums, s);
    [this.#sum, this.#count] = [s[0] as number, s[1] as number];
  }
}

/** Mean of −log p(true class) over N×K row-major probabilities (labels equal to the ignore index skipped). */
export function meanLogLoss(probabilities: ArrayLike<number>, labels: ArrayLike<number> | BigInt64Array, numClasses: number, options: MetricOptions = {}): number {
  const ignore = options.ignoreIndex ?? DEFAULT_IGNORE_INDEX;
  const y = checkArrays('meanLogLoss', probabilities, labels, numClasses, ignore);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === ignore) continue;
    sum -= Math.log(probabilities[i * numClasses + (y[i] as number)] as number);
    n++;
  }
  return n === 0 ? Number.NaN : sum / n;
}
