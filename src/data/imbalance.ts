// Tools for class imbalance: count the classes, turn counts into per-class loss weights, and
// per-class weights into per-sample weights for WeightedRandomSampler (oversampling rare classes).
import type { IndexedDataset } from './types.js';

type Labelled = IndexedDataset | ArrayLike<number>;

function labelsOf(d: Labelled): { labels: ArrayLike<number>; classes: number | undefined; name: string } {
  if ('kind' in d && (d as IndexedDataset).kind === 'indexed') {
    const ds = d as IndexedDataset;
    return { labels: ds.labels(), classes: ds.classes.length, name: ds.describe() };
  }
  return { labels: d as ArrayLike<number>, classes: undefined, name: 'labels' };
}

/**
 * Samples per class. Length: the data set's class count, else `numClasses`, else the largest label + 1.
 * Unlabelled samples (-1) are not counted; any other label outside the classes is an error.
 */
export function classCounts(data: Labelled, numClasses?: number): Int32Array {
  const { labels, classes, name } = labelsOf(data);
  let k = numClasses ?? classes;
  if (k === undefined) {
    k = 0;
    for (let i = 0; i < labels.length; i++) k = Math.max(k, (labels[i] as number) + 1);
  }
  const counts = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l === -1) continue;
    if (!Number.isInteger(l) || l < 0 || l >= k) throw new RangeError(`classCounts: ${name}: sample ${i} has label ${l}, outside [0, ${k})`);
    counts[l] = (counts[l] as number) + 1;
  }
  return counts;
}

export type ClassWeighting = 'inverse' | 'inverse-sqrt' | 'effective';

/**
 * Per-class weights from class counts:
 *   inverse       w_c = 1 / n_c
 *   inverse-sqrt  w_c = 1 / √n_c
 *   effective     w_c = (1 − β) / (1 − β^n_c)   — the inverse "effective number of samples"
 *                 (Cui et al., Class-Balanced Loss, CVPR 2019); β → 0 gives equal weights, β → 1 inverse.
 * Normalised so the weights sum to K, the number of classes that have samples (so a balanced data
 * set gets weight 1 everywhere). A class with no samples gets weight 0.
 */
export function classWeights(counts: ArrayLike<number>, method: ClassWeighting = 'inverse', beta = 0.999): Float64Array {
  if (method === 'effective' && !(beta >= 0 && beta < 1)) throw new RangeError(`classWeights: beta must be in [0, 1), got ${beta}`);
  const w = new Float64Array(counts.length);
  let present = 0;
  let sum = 0;
  for (let c = 0; c < counts.length; c++) {
    const n = counts[c] as number;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`classWeights: counts[${c}] is ${n}; counts are non-negative integers`);
    if (n === 0) continue;
    present++;
    w[c] = method === 'inverse' ? 1 / n : method === 'inverse-sqrt' ? 1 / Math.sqrt(n) : (1 - beta) / (1 - Math.pow(beta, n));
    sum += w[c] as number;
  }
  if (present === 0) throw new RangeError('classWeights: every class count is zero');
  for (let c = 0; c < w.length; c++) w[c] = ((w[c] as number) * present) / sum;
  return w;
}

/**
 * One weight per sample: its class's weight (unlabelled samples get 0, so a sampler never draws
 * them). With `weights` a method name, class weights are computed from the data's counts first.
 * Feed the result to WeightedRandomSampler to draw classes in proportion to count × weight
 * ('inverse' → every class equally often).
 */
export function sampleWeights(data: Labelled, weights: ArrayLike<number> | ClassWeighting = 'inverse', beta = 0.999): Float64Array {
  const { labels, name } = labelsOf(data);
  const cw = typeof weights === 'string' ? classWeights(classCounts(data), weights, beta) : weights;
  const out = new Float64Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i] as number;
    if (l === -1) continue;
    if (!Number.isInteger(l) || l < 0 || l >= cw.length) throw new RangeError(`sampleWeights: ${name}: sample ${i} has label ${l}, but there are ${cw.length} class weights`);
    out[i] = cw[l] as number;
  }
  return out;
}
