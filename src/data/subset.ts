// A view of some samples of an indexed data set (a split, a fold, a debugging slice), itself an
// IndexedDataset: sample i of the subset is sample indices[i] of the base. Labels and groups come
// from the base without reading anything, and a tensor-backed base keeps the loader's fast path.
import { isTensorBacked, type TensorBacked } from './loader/array-dataset.js';
import type { IndexedDataset, SampleRecord } from './types.js';
import type { Tensor } from '../tensor/index.js';

export class Subset implements IndexedDataset {
  readonly kind = 'indexed' as const;
  readonly length: number;
  readonly classes: readonly string[];
  readonly indices: Int32Array;

  constructor(readonly base: IndexedDataset, indices: ArrayLike<number>, private readonly name?: string) {
    this.indices = Int32Array.from(indices);
    this.length = this.indices.length;
    this.classes = base.classes;
    for (let i = 0; i < indices.length; i++) {
      const j = indices[i] as number;
      if (!Number.isInteger(j) || j < 0 || j >= base.length)
        throw new RangeError(`subset: indices[${i}] is ${j}, outside [0, ${base.length}) of ${base.describe()}`);
    }
  }

  labels(): Int32Array {
    const all = this.base.labels();
    return this.indices.map((j) => all[j] as number);
  }

  groups(): readonly (string | undefined)[] | undefined {
    const all = this.base.groups?.();
    return all && Array.from(this.indices, (j) => all[j]);
  }

  read(index: number): Promise<SampleRecord> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length)
      return Promise.reject(new RangeError(`subset: index ${index} is outside [0, ${this.length})`));
    return this.base.read(this.indices[index] as number);
  }

  /** The base's id for the sample, or its index there. */
  sampleId(index: number): string {
    const j = this.indices[index] as number;
    return this.base.sampleId?.(j) ?? `sample ${j} of ${this.base.describe()}`;
  }

  describe(): string {
    const n = this.length.toLocaleString('en-US');
    return this.name === undefined ? `${n} samples of ${this.base.describe()}` : `${this.name} (${this.classes.length} classes, ${n} samples)`;
  }
}

/** A tensor-backed subset: batches are still one gather, through the mapped indices. */
class TensorSubset extends Subset implements TensorBacked {
  constructor(override readonly base: IndexedDataset & TensorBacked, indices: ArrayLike<number>, name?: string) {
    super(base, indices, name);
  }

  gatherBatch(indices: Int32Array): { x: Tensor; y: Tensor } {
    return this.base.gatherBatch(indices.map((i) => this.indices[i] as number));
  }
}

/** The samples `indices` of `dataset`, in that order (repeats allowed); `name` replaces the description's "N samples of …". */
export function subset(dataset: IndexedDataset, indices: ArrayLike<number>, name?: string): Subset {
  return isTensorBacked(dataset) ? new TensorSubset(dataset, indices, name) : new Subset(dataset, indices, name);
}
