// Splitting any sampler across ranks (processes in data-parallel training), as torch's
// DistributedSampler does for its random permutation: every rank computes the same global order
// from the same seed, pads it (or cuts it) to a multiple of worldSize, and takes every
// worldSize-th index starting at its rank. So the ranks' slices never overlap, every rank gets the
// same count (collective ops need equal step counts), and their union is the global order —
// for a weighted sampler that means the union follows exactly the single-process distribution.
import type { Sampler } from './samplers.js';

export interface DistributedOptions {
  rank: number;
  worldSize: number;
  /**
   * false (default): pad the global order by repeating its first indices until it divides evenly,
   * so every sample is seen (a few twice). true: drop the tail, so none is seen twice.
   */
  dropLast?: boolean;
}

export class DistributedSampler implements Sampler {
  readonly length: number;
  readonly rank: number;
  readonly worldSize: number;
  readonly dropLast: boolean;
  /** The global length after padding or cutting. */
  readonly totalSize: number;

  constructor(readonly inner: Sampler, options: DistributedOptions) {
    const { rank, worldSize } = options;
    if (!Number.isInteger(worldSize) || worldSize < 1) throw new RangeError(`DistributedSampler: worldSize must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) throw new RangeError(`DistributedSampler: rank must be in [0, ${worldSize}), got ${rank}`);
    this.rank = rank;
    this.worldSize = worldSize;
    this.dropLast = options.dropLast ?? false;
    const n = inner.length;
    this.length = this.dropLast ? Math.floor(n / worldSize) : Math.ceil(n / worldSize);
    this.totalSize = this.length * worldSize;
    if (!this.dropLast && n === 0 && this.totalSize > 0) throw new RangeError('DistributedSampler: cannot pad an empty sampler');
  }

  indices(epoch: number): Int32Array {
    const global = this.inner.indices(epoch);
    const n = global.length;
    const out = new Int32Array(this.length);
    for (let k = 0; k < this.length; k++) {
      const p = this.rank + k * this.worldSize; // position in the padded global order
      out[k] = global[p < n ? p : (p - n) % n] as number; // padding repeats the order from its start
    }
    return out;
  }

  describe(): string {
    return `rank ${this.rank} of ${this.worldSize} (${this.length.toLocaleString('en-US')} each${this.dropLast ? ', tail dropped' : ', padded'}) of ${this.inner.describe()}`;
  }
}
