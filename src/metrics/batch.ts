// What every metric does first with a batch: check that `output` and `target` fit together and
// drop the targets equal to the ignore index. Errors name the metric and the shapes at fault,
// because a metric is often the first place a wrong head size or label shows up.
import * as ops from '../tensor/generated/ops.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

/** PyTorch's default `ignore_index` for cross-entropy: the metrics skip the same targets as the loss. */
export const DEFAULT_IGNORE_INDEX = -100;

export interface MetricOptions {
  /** Targets equal to this are skipped (default -100, as PyTorch's cross-entropy). */
  ignoreIndex?: number;
}

/** A class-count argument: a positive integer. */
export function checkNumClasses(who: string, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`${who}: numClasses must be a positive integer, got ${numClasses}`);
}

/**
 * Checks an N×K score batch against N targets and returns the kept rows: `scores` (n×K) and
 * `target` (n, int64), both on the scores' device, with ignored targets removed and every kept
 * target checked to lie in [0, K), and the indices of the kept `rows`. Tensors made here belong
 * to the caller's scope.
 */
export function keptRows(who: string, output: Tensor, target: Tensor, numClasses: number, ignoreIndex: number): { scores: Tensor; target: Tensor; rows: Tensor } {
  if (output.ndim !== 2 || output.shape[1] !== numClasses)
    throw new RangeError(`${who}: output must be N×${numClasses} scores, got shape [${output.shape.join(', ')}]`);
  if (!isFloatingPoint(output.dtype)) throw new TypeError(`${who}: output must be floating point scores, got ${output.dtype}`);
  const t = keptTargets(who, target, output.shape[0] as number, numClasses, ignoreIndex, output.device);
  const scores = t.all ? output : ops.indexSelect(output, 0, t.rows);
  return { scores, target: t.target, rows: t.rows };
}

/**
 * The kept targets of a batch of `n`: `target` (int64 on `device`) without the ignored ones, the
 * indices of the kept `rows`, and whether `all` rows were kept. Throws, naming the first bad
 * value, when a kept target is outside [0, K).
 */
export function keptTargets(who: string, target: Tensor, n: number, numClasses: number, ignoreIndex: number, device: string): { target: Tensor; rows: Tensor; all: boolean } {
  if (target.ndim !== 1 || target.shape[0] !== n)
    throw new RangeError(`${who}: target must be ${n} class indices (one per output row), got shape [${target.shape.join(', ')}]`);
  if (target.dtype !== 'int64' && target.dtype !== 'int32') throw new TypeError(`${who}: target must hold int64 class indices, got ${target.dtype}`);
  let t = target.device === device ? target : target.to(device);
  if (t.dtype !== 'int64') t = t.long();
  const keep = ops.ne(t, ignoreIndex);
  const rows = ops.nonzero(keep).view(-1);
  const all = rows.shape[0] === n;
  const kept = all ? t : ops.indexSelect(t, 0, rows);
  // One small read per batch: how many kept targets are out of range.
  const bad = ops.logicalOr(ops.lt(kept, 0), ops.ge(kept, numClasses));
  if (ops.any(bad).item()) {
    const values = ops.maskedSelect(kept, bad).data();
    throw new RangeError(`${who}: target ${String(values[0])} is not a class index in [0, ${numClasses}) (nor the ignore index ${ignoreIndex})`);
  }
  return { target: kept, rows, all };
}

/** Labels given as numbers or int64 (BigInt64Array) as plain numbers. */
export function labelsOf(labels: ArrayLike<number> | BigInt64Array): Float64Array {
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = Number(labels[i]);
  return out;
}

/**
 * Checks the full-array form of the metrics: `scores` is N×K row-major next to N labels. Returns
 * the labels as numbers. Labels equal to `ignoreIndex` are left in place for the caller to skip;
 * any other label outside [0, K) is an error naming its position.
 */
export function checkArrays(who: string, scores: ArrayLike<number> | null, labels: ArrayLike<number> | BigInt64Array, numClasses: number, ignoreIndex: number): Float64Array {
  checkNumClasses(who, numClasses);
  const y = labelsOf(labels);
  if (scores !== null && scores.length !== y.length * numClasses)
    throw new RangeError(`${who}: scores must hold N×K = ${y.length}×${numClasses} = ${y.length * numClasses} values (row-major), got ${scores.length}`);
  for (let i = 0; i < y.length; i++) {
    const v = y[i] as number;
    if (v !== ignoreIndex && !(Number.isInteger(v) && v >= 0 && v < numClasses))
      throw new RangeError(`${who}: label[${i}] = ${v} is not a class index in [0, ${numClasses}) (nor the ignore index ${ignoreIndex})`);
  }
  return y;
}
