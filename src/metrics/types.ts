// The contract between the trainer and its metrics: a metric accumulates over a whole pass
// (an epoch, a validation set) batch by batch and is computed once at the end, so values are
// exact over the set, never averages of per-batch values.
import type { Tensor } from '../tensor/tensor.js';

export interface Metric {
  /** Key in logs and reports, e.g. `accuracy`, `f1_macro`, `top5`. */
  readonly name: string;
  /** Which way is better, for checkpoint selection and early stopping. */
  readonly mode: 'max' | 'min';
  /**
   * What targets it takes: 'classes' (default), N class indices — the trainer skips it on MixUp's
   * and CutMix's soft targets; 'task', its task's own (masks, 0/1 labels, images), always given.
   */
  readonly targets?: 'classes' | 'task';
  /**
   * Adds one batch. Classification: `output` N×K logits (or probabilities where the metric says
   * so), `target` N int64 class indices; the metrics of other tasks say what they take
   * (segmentation: per-pixel logits and masks; multi-label: N×K 0/1 targets). The metric copies
   * what it needs; it never keeps the tensors.
   */
  update(output: Tensor, target: Tensor): void;
  /** The value over everything seen since the last reset. */
  compute(): number;
  reset(): void;
  /**
   * The accumulated state as numbers that add up over disjoint parts of a set (counts, sums), in
   * a fixed layout, for metrics that have one: data-parallel evaluation adds every rank's and
   * loads the total back with `loadSums`, so `compute()` gives the metric of the whole set
   * (reduce.ts). Metrics that keep every score (AUC, average precision, Fréchet distance) have none.
   */
  sums?(): Float64Array;
  /** Replaces the state with `sums` (what `sums()` returns, added over parts of the set). */
  loadSums?(sums: Float64Array): void;
}
