// One contiguous tensor standing for several tensors of the same dtype and device, so that one
// collective moves all of them: `gather` copies them in, the collective works on `flat`, and
// `scatter` copies the result back (as data: no autograd history). The per-tensor views are made
// once and reused every step.
import { noGrad } from '../tensor/autograd.js';
import type { DType } from '../tensor/dtype.js';
import { persist } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { empty } from '../tensor/generated/ops.js';

export class FlatBuffer {
  /** (total numel,) */
  readonly flat: Tensor;
  readonly #slots: Tensor[];

  constructor(shapes: readonly (readonly number[])[], dtype: DType, device: string) {
    const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.flat = persist(empty([sizes.reduce((a, b) => a + b, 0)], { dtype, device }));
    let offset = 0;
    this.#slots = shapes.map((shape, i) => {
      const slot = persist(this.flat.narrow(0, offset, sizes[i]!).view([...shape]));
      offset += sizes[i]!;
      return slot;
    });
  }

  /** Copies `tensors` (one per shape given at construction, any memory layout) into the flat tensor. */
  gather(tensors: readonly Tensor[]): void {
    noGrad(() => tensors.forEach((t, i) => this.#slots[i]!.copy_(t)));
  }

  /** Copies the flat tensor's parts back into `tensors`, in place. */
  scatter(tensors: readonly Tensor[]): void {
    noGrad(() => tensors.forEach((t, i) => t.copy_(this.#slots[i]!)));
  }

  dispose(): void {
    for (const s of this.#slots) s.dispose();
    this.flat.dispose();
  }
}
