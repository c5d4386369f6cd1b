// Quality figures for generated images that need no download: the Fréchet distance between two sets
// of feature vectors, and how many classes a classifier finds among generated samples.
//
// Fréchet distance (Dowson & Landau 1982), the formula of FID (Heusel et al. 2017) applied to
// whatever features the caller extracts — with a classifier Tessera trained, it is *not* the
// Inception FID and its numbers are not comparable with published FIDs:
//
//   d² = |μ₁ − μ₂|² + tr Σ₁ + tr Σ₂ − 2·tr √(Σ₁Σ₂)
//
// with the sample means and unbiased covariances (numpy.cov, as pytorch-fid). Σ₁Σ₂ is not symmetric,
// but it is similar to the symmetric S·Σ₂·S with S = Σ₁^½ (S⁻¹(SSΣ₂)S = SΣ₂S), so the trace of its
// square root is Σ √λᵢ over the eigenvalues of S·Σ₂·S: two symmetric eigendecompositions
// (linalg_eigh), in float64, with the tiny negative eigenvalues that rounding gives a PSD matrix
// clamped to 0. This is stable where scipy's sqrtm of the product needs an ε·I fix (pytorch-fid).
//
// Statistics accumulate batch by batch (Chan et al.'s pairwise update of the mean and of the sum of
// squared deviations, in float64), so a set's statistics are exact without keeping its features.
import * as ops from '../tensor/generated/ops.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { noGrad } from '../tensor/autograd.js';
import { persist, scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkNumClasses } from './batch.js';
import type { Metric } from './types.js';

/** Mean and covariance of a set of feature vectors, float64 on the CPU. */
export interface FeatureStats {
  count: number;
  /** (D) */
  mean: Tensor;
  /** (D, D), unbiased (divided by count − 1) */
  cov: Tensor;
}

/** Running count, mean and sum of squared deviations (D×D) of feature batches; `stats()` reads them. */
export class FeatureMoments {
  #count = 0;
  #mean: Tensor | null = null;
  #m2: Tensor | null = null;

  get count(): number {
    return this.#count;
  }

  /** Adds a batch of features (N, D), any floating dtype and device. */
  update(features: Tensor, who = 'FeatureMoments.update'): void {
    if (features.dim() !== 2 || !isFloatingPoint(features.dtype)) throw new RangeError(`${who}: features must be (N, D) floating point, got ${features.dtype} [${features.shape.join(', ')}]`);
    const [n, d] = features.shape as [number, number];
    if (n === 0) return;
    const dim = this.#mean?.shape[0];
    if (dim !== undefined && dim !== d) throw new RangeError(`${who}: features have ${d} dimensions, earlier batches had ${dim}`);
    const [mean, m2] = noGrad(() =>
      scope(() => {
        const x = features.detach().to({ dtype: 'float64', device: 'cpu' });
        const mb = x.mean([0]); // (D)
        const c = x.sub(mb);
        const m2b = ops.mm(c.t(), c); // (D, D)
        if (!this.#mean || !this.#m2) return [mb, m2b];
        const total = this.#count + n;
        const delta = mb.sub(this.#mean);
        return [this.#mean.add(delta.mul(n / total)), this.#m2.add(m2b).add(ops.outer(delta, delta).mul((this.#count * n) / total))];
      }),
    ) as [Tensor, Tensor];
    this.#mean?.dispose();
    this.#m2?.dispose();
    this.#mean = persist(mean);
    this.#m2 = persist(m2);
    this.#count += n;
  }

  /** The statistics so far (new tensors, the caller's); needs at least two vectors. */
  stats(who = 'FeatureMoments.stats'): FeatureStats {
    if (!this.#mean || !this.#m2 || this.#count < 2) throw new RangeError(`${who}: a covariance needs at least 2 feature vectors, got ${this.#count}`);
    return { count: this.#count, mean: this.#mean.clone(), cov: this.#m2.div(this.#count - 1) };
  }

  reset(): void {
    this.#mean?.dispose();
    this.#m2?.dispose();
    this.#mean = this.#m2 = null;
    this.#count = 0;
  }
}

/** The statistics of one set of features (N, D), N ≥ 2. */
export function featureStats(features: Tensor): FeatureStats {
  const m = new FeatureMoments();
  m.update(features, 'featureStats');
  try {
    return m.stats('featureStats');
  } finally {
    m.reset();
  }
}

/** The Fréchet distance d² between two sets' statistics (see the top of this file); ≥ 0. */
export function frechetDistance(a: FeatureStats, b: FeatureStats): number {
  const [da, db] = [a.mean.shape[0], b.mean.shape[0]];
  if (da !== db) throw new RangeError(`frechetDistance: the two sets' features have ${da} and ${db} dimensions`);
  return scope(() => {
    const [m1, m2, s1, s2] = [a.mean, b.mean, a.cov, b.cov].map((t) => t.to({ dtype: 'float64', device: 'cpu' })) as [Tensor, Tensor, Tensor, Tensor];
    const diff = m1.sub(m2);
    const [l1, v1] = ops.linalgEigh(s1);
    const root1 = v1.mul(l1.clampMin(0).sqrt()).mm(v1.t()); // Σ₁^½ = V·diag(√λ)·Vᵀ
    const inner = root1.mm(s2).mm(root1);
    const [l2] = ops.linalgEigh(inner.add(inner.t()).div(2)); // symmetrised against rounding
    const traceRoot = l2.clampMin(0).sqrt().sum();
    const d = diff.dot(diff).add(s1.diagonal().sum()).add(s2.diagonal().sum()).sub(traceRoot.mul(2)).item() as number;
    return Math.max(0, d); // rounding may leave −1e-12 for identical sets
  });
}

/** The Fréchet distance between two sets of features (N, D) and (M, D). */
export function frechetDistanceOf(x: Tensor, y: Tensor): number {
  return scope(() => frechetDistance(featureStats(x), featureStats(y)));
}

/**
 * The Fréchet distance as a `Metric` (lower is better): `update(generated, real)` adds a batch of
 * features of each (either may have 0 rows). With a fixed `reference` (the real set's statistics,
 * computed once), `update(generated)` adds generated features only. `reset()` forgets the features
 * added since, never the fixed reference.
 */
export class FrechetDistance implements Metric {
  readonly name: string;
  readonly mode = 'min' as const;
  readonly #generated = new FeatureMoments();
  readonly #real = new FeatureMoments();
  readonly #reference: FeatureStats | null;

  constructor(options: { reference?: FeatureStats; name?: string } = {}) {
    this.name = options.name ?? 'frechet_distance';
    const r = options.reference;
    const own = (t: Tensor) => persist(scope(() => t.to({ dtype: 'float64', device: 'cpu' }).clone()));
    this.#reference = r ? { count: r.count, mean: own(r.mean), cov: own(r.cov) } : null;
  }

  update(generated: Tensor, real?: Tensor): void {
    this.#generated.update(generated, 'FrechetDistance.update (generated)');
    if (real === undefined) {
      if (!this.#reference) throw new RangeError('FrechetDistance.update: give the real features too (update(generated, real)), or a fixed reference');
      return;
    }
    if (this.#reference) throw new RangeError('FrechetDistance.update: the real set is the fixed reference; give generated features only');
    this.#real.update(real, 'FrechetDistance.update (real)');
  }

  compute(): number {
    return scope(() => frechetDistance(this.#generated.stats('FrechetDistance (generated)'), this.#reference ?? this.#real.stats('FrechetDistance (real)')));
  }

  reset(): void {
    this.#generated.reset();
    this.#real.reset();
  }

  /** Frees the fixed reference's tensors. */
  dispose(): void {
    this.reset();
    this.#reference?.mean.dispose();
    this.#reference?.cov.dispose();
  }
}

/** How many classes hold at least `minCount` of the samples counted per class. */
export function classCoverage(counts: ArrayLike<number>, minCount = 1): number {
  if (!(minCount > 0)) throw new RangeError(`classCoverage: minCount must be > 0, got ${minCount}`);
  let covered = 0;
  for (let k = 0; k < counts.length; k++) if ((counts[k] as number) >= minCount) covered++;
  return covered;
}

/**
 * Class coverage of generated samples: a classifier's outputs (N, K) for them are counted by argmax,
 * and `compute()` is the number of classes predicted at least `minCount` times (default 1; raise
 * it to ignore classes a few stray samples land in). A generator that collapsed to a few modes
 * covers few classes.
 */
export class ClassCoverage implements Metric {
  readonly name: string;
  readonly mode = 'max' as const;
  readonly numClasses: number;
  readonly minCount: number;
  readonly #counts: Float64Array;

  constructor(numClasses: number, options: { minCount?: number; name?: string } = {}) {
    checkNumClasses('ClassCoverage', numClasses);
    this.numClasses = numClasses;
    this.minCount = options.minCount ?? 1;
    if (!(this.minCount > 0)) throw new RangeError(`ClassCoverage: minCount must be > 0, got ${this.minCount}`);
    this.name = options.name ?? 'class_coverage';
    this.#counts = new Float64Array(numClasses);
  }

  /** `output`: the classifier's (N, K) scores for N generated samples. */
  update(output: Tensor): void {
    const K = this.numClasses;
    if (output.dim() !== 2 || output.shape[1] !== K || !isFloatingPoint(output.dtype))
      throw new RangeError(`ClassCoverage.update: output must be N×${K} floating point scores, got ${output.dtype} [${output.shape.join(', ')}]`);
    const batch = scope(() => ops.bincount(ops.argmax(output, 1), { minlength: K }).to('cpu').data() as BigInt64Array);
    batch.forEach((c, k) => (this.#counts[k] = (this.#counts[k] as number) + Number(c)));
  }

  /** Samples per predicted class so far. */
  counts(): number[] {
    return Array.from(this.#counts);
  }

  compute(): number {
    return classCoverage(this.#counts, this.minCount);
  }

  reset(): void {
    this.#counts.fill(0);
  }
}
