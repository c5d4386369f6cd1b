// Samplers decide which data-set indices an epoch visits and in what order. Each one is a pure
// function of (its seed, epoch): `indices(epoch)` returns the whole epoch's order at once (4 bytes a
// sample — 240 KB for 60,000), so resuming mid-epoch is slicing, and every worker and rank can
// compute the same order without talking to each other. SamplerCursor (cursor.ts) adds the
// stateful position for code that walks a sampler by hand.
import { checkSeed, RandomStream } from '../random.js';

export interface Sampler {
  /** How many indices one epoch yields. */
  readonly length: number;
  /** The epoch's indices in order; the same epoch always gives the same array. */
  indices(epoch: number): Int32Array;
  /** One line for logs, e.g. `random (60,000 of 60,000, seed 7)`. */
  describe(): string;
}

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

function checkEpoch(epoch: number): void {
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`sampler: epoch must be a non-negative integer, got ${epoch}`);
}

/** 0, 1, ..., n-1 every epoch. */
export class SequentialSampler implements Sampler {
  constructor(readonly length: number) {
    checkCount('SequentialSampler: length', length);
  }

  indices(epoch: number): Int32Array {
    checkEpoch(epoch);
    const out = new Int32Array(this.length);
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }

  describe(): string {
    return `sequential (${this.length.toLocaleString('en-US')})`;
  }
}

export interface RandomSamplerOptions {
  seed?: number;
  /** Draw with replacement (default false: a permutation). */
  replacement?: boolean;
  /** Indices per epoch (default n). Without replacement and above n, whole permutations are chained. */
  numSamples?: number;
}

/** A fresh random order each epoch, keyed by (seed, epoch). */
export class RandomSampler implements Sampler {
  readonly length: number;
  readonly seed: number;
  readonly replacement: boolean;

  constructor(readonly n: number, options: RandomSamplerOptions = {}) {
    checkCount('RandomSampler: n', n);
    this.seed = checkSeed(options.seed ?? 0, 'RandomSampler: seed');
    this.replacement = options.replacement ?? false;
    this.length = options.numSamples ?? n;
    checkCount('RandomSampler: numSamples', this.length);
    if (n === 0 && this.length > 0) throw new RangeError('RandomSampler: cannot draw samples from an empty data set');
  }

  indices(epoch: number): Int32Array {
    checkEpoch(epoch);
    const out = new Int32Array(this.length);
    if (this.replacement) {
      const rng = new RandomStream({ seed: this.seed, purpose: 'shuffle', epoch });
      for (let i = 0; i < out.length; i++) out[i] = rng.int(0, this.n);
      return out;
    }
    // One permutation per n samples, each keyed by its own round, as torch does for numSamples > n.
    for (let start = 0, round = 0; start < out.length; start += this.n, round++) {
      const p = new RandomStream({ seed: this.seed, purpose: 'shuffle', epoch, stream: round }).permutation(this.n);
      out.set(p.subarray(0, Math.min(this.n, out.length - start)), start);
    }
    return out;
  }

  describe(): string {
    return `random (${this.length.toLocaleString('en-US')} of ${this.n.toLocaleString('en-US')}${this.replacement ? ', with replacement' : ''}, seed ${this.seed})`;
  }
}

export interface WeightedRandomSamplerOptions {
  seed?: number;
  /** Default true, as torch's WeightedRandomSampler. Without replacement numSamples must not exceed the non-zero weights. */
  replacement?: boolean;
}

/**
 * Index i drawn with probability weights[i] / sum(weights) (weights need not sum to 1). With
 * replacement each draw is a binary search in the cumulative weights (O(log n)); without, the
 * Efraimidis–Spirakis keys u^(1/w) pick a weighted sample in one pass.
 */
export class WeightedRandomSampler implements Sampler {
  readonly seed: number;
  readonly replacement: boolean;
  private readonly cumulative: Float64Array;
  private readonly weights: Float64Array;

  constructor(weights: ArrayLike<number>, readonly length: number, options: WeightedRandomSamplerOptions = {}) {
    checkCount('WeightedRandomSampler: numSamples', length);
    this.seed = checkSeed(options.seed ?? 0, 'WeightedRandomSampler: seed');
    this.replacement = options.replacement ?? true;
    this.weights = Float64Array.from(weights);
    this.cumulative = new Float64Array(this.weights.length);
    let total = 0;
    let positive = 0;
    for (let i = 0; i < this.weights.length; i++) {
      const w = this.weights[i] as number;
      if (!Number.isFinite(w) || w < 0) throw new RangeError(`WeightedRandomSampler: weights[${i}] is ${w}; weights must be finite and non-negative`);
      if (w > 0) positive++;
      total += w;
      this.cumulative[i] = total;
    }
    if (length > 0 && total === 0) throw new RangeError('WeightedRandomSampler: every weight is zero');
    if (!this.replacement && length > positive)
      throw new RangeError(`WeightedRandomSampler: cannot draw ${length} samples without replacement from ${positive} non-zero weights`);
  }

  indices(epoch: number): Int32Array {
    checkEpoch(epoch);
    const rng = new RandomStream({ seed: this.seed, purpose: 'weighted', epoch });
    const out = new Int32Array(this.length);
    if (this.replacement) {
      const c = this.cumulative;
      const total = c[c.length - 1] as number;
      for (let k = 0; k < out.length; k++) {
        const u = rng.float() * total;
        // First i with cumulative[i] > u: never an index of zero weight (its cumulative equals its predecessor's).
        let lo = 0;
        let hi = c.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if ((c[mid] as number) > u) hi = mid;
          else lo = mid + 1;
        }
        out[k] = lo;
      }
      return out;
    }
    // Keys log(u)/w: the `length` largest are a weighted sample without replacement.
    const keys = new Float64Array(this.weights.length);
    for (let i = 0; i < keys.length; i++) {
      const w = this.weights[i] as number;
      keys[i] = w > 0 ? Math.log(1 - rng.float()) / w : -Infinity;
    }
    const order = Int32Array.from(keys.keys()).sort((a, b) => (keys[b] as number) - (keys[a] as number) || a - b);
    out.set(order.subarray(0, this.length));
    return out;
  }

  describe(): string {
    return `weighted random (${this.length.toLocaleString('en-US')} draws over ${this.weights.length.toLocaleString('en-US')}${this.replacement ? ', with replacement' : ''}, seed ${this.seed})`;
  }
}
