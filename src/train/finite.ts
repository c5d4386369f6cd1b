// Which tensors of a state hold NaN or ±Infinity. A diverged run's loss guard sees only the loss;
// the weights and buffers (BatchNorm's running_var is updated by the forward pass, before any
// loss) can go non-finite on their own, so checkpoints and saved models check every tensor.
import { noGrad } from '../tensor/autograd.js';
import { isFloatingPoint } from '../tensor/dtype.js';
import { stack } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** The names of the floating-point tensors with a non-finite element, in the given order (one device synchronization). */
export function nonFiniteEntries(tensors: Iterable<readonly [string, Tensor]>): string[] {
  return noGrad(() =>
    scope(() => {
      const names: string[] = [];
      const flags: Tensor[] = [];
      let device: string | undefined;
      for (const [name, t] of tensors) {
        if (!isFloatingPoint(t.dtype) || t.numel() === 0) continue;
        device ??= t.device;
        const flag = t.isfinite().all().logicalNot();
        names.push(name);
        flags.push(flag.device === device ? flag : flag.to({ device }));
      }
      if (flags.length === 0) return [];
      const bad = stack(flags).cpu().data() as Uint8Array;
      return names.filter((_, i) => bad[i] !== 0);
    }),
  );
}
