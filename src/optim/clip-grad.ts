// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13).
import { noGrad } from '../tensor/autograd.js';
import { max, norm, stack, zeros } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import { Tensor } from '../tensor/tensor.js';

export interface ClipGradNormOptions {
  /** Throw if the total norm is nan or ±inf (this reads it back from the device). */
  errorIfNonfinite?: boolean;
}

/**
 * Rescales the gradients of `params` in place so that their joint norm is at most `maxNorm`, and
 * returns the joint norm before clipping as a 0-dim tensor (yours to dispose; reading it with
 * `.item()` synchronizes with the device, which clipping itself never does).
 *
 *   N = ‖(‖g₁‖ₚ, …, ‖gₖ‖ₚ)‖ₚ         (p = ∞: N = maxᵢ max|gᵢ|)
 *   gᵢ ← gᵢ · min(1, maxNorm / (N + 1e-6))
 *
 * The multiply happens even when the factor is 1, so there is no data-dependent branch.
 */
export function clipGradNorm_(params: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2, options: ClipGradNormOptions = {}): Tensor {
  const list = params instanceof Tensor ? [params] : [...params];
  return noGrad(() =>
    scope(() => {
      const grads = list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      const first = grads[0];
      if (first === undefined) return zeros([]);
      const device = first.device;
      const onDevice = (t: Tensor) => (t.device === device ? t : t.to({ device }));
      let total: Tensor;
      if (normType === Infinity) {
        const norms = grads.map((g) => onDevice(g.abs().max()));
        total = norms.length === 1 ? (norms[0] as Tensor) : max(stack(norms));
      } else {
        // torch.norm(x, p) reduces over every dimension: norm(x, p, dim=[0..ndim)).
        const norms = grads.map((g) => onDevice(norm(g, normType, allDims(g))));
        total = norm(stack(norms), normType, [0]);
      }
      if (options.errorIfNonfinite && !Number.isFinite(total.item()))
        throw new Error(`clipGradNorm_: the total norm of order ${normType} of the gradients is non-finite, so it cannot be clipped`);
      // Python's `max_norm / (total + 1e-6)` is Tensor.__rtruediv__: reciprocal, then multiply.
      const coef = total.add(1e-6).reciprocal().mul(maxNorm).clamp({ max: 1.0 });
      for (const g of grads) g.mul_(g.device === coef.device ? coef : coef.to({ device: g.device }));
      return total;
    }),
  );
}

/** Clamps every gradient of `params` in place to [−clipValue, clipValue]. */
export function clipGradValue_(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  const list = params instanceof Tensor ? [params] : [...params];
  noGrad(() =>
    scope(() => {
      for (const p of list) p.grad?.clamp_(-clipValue, clipValue);
    }),
  );
}

function allDims(t: Tensor): number[] {
  return Array.from({ length: t.dim() }, (_, i) => i);
}
