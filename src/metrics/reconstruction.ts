// Reconstruction error as a `Metric`: the mean squared error per value between an autoencoder's
// outputs and its targets (the input images, in [0, 1]), summed over the set and divided once at
// the end, so it is exact over the set rather than a mean of batch means.
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Metric } from './types.js';

export class MeanSquaredError implements Metric {
  readonly name: string;
  readonly mode = 'min' as const;
  readonly targets = 'task' as const;
  #sum = 0;
  #count = 0;

  constructor(options: { name?: string } = {}) {
    this.name = options.name ?? 'mse';
  }

  /** `output` and `target` of the same shape, any float dtype. */
  update(output: Tensor, target: Tensor): void {
    if (output.shape.join() !== target.shape.join()) throw new RangeError(`MeanSquaredError.update: output [${output.shape.join(', ')}] and target [${target.shape.join(', ')}] differ in shape`);
    this.#sum += scope(() => output.double().sub(target.double()).square().sum().item() as number);
    this.#count += output.numel();
  }

  /** NaN before any value. */
  compute(): number {
    return this.#count === 0 ? Number.NaN : this.#sum / this.#count;
  }

  reset(): void {
    this.#sum = 0;
    this.#count = 0;
  }
}
