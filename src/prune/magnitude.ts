// Global magnitude pruning, as torch.nn.utils.prune.global_unstructured(params, L1Unstructured,
// amount) computes it: every conv and linear weight flattened and concatenated in module order
// (parameters_to_vector), the round(amount · n) entries of smallest |w| found with LibTorch's own
// topk (so ties break as PyTorch's do), and one 0/1 mask per weight. PyTorch keeps weight_orig and
// the mask and multiplies them in a forward pre-hook until prune.remove makes it permanent; here the
// pruned entries are zeroed in place, which is what remove leaves, and fine-tuning keeps them at
// zero with MaskCallback (the same effective weights as weight_orig · mask, step for step, for the
// element-wise optimizers the trainer has).
//
// Unstructured zeros make the file compress better but not the dense kernels faster: channel
// pruning (channels.ts) is the one that shrinks the multiply-adds.
import { Conv1d, Conv2d } from '../nn/layers/conv.js';
import { Linear } from '../nn/layers/linear.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { abs, cat, indexFill, ones, topk } from '../tensor/generated/ops.js';
import { persist, scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Callback, TrainContext } from '../train/events.js';
import { roundHalfEven } from '../export/quantize-math.js';

/** The conv and linear weights in module order, by state-dict key (torch: [(m, 'weight') for m in modules() if Conv/Linear]). */
export function prunableWeights(model: Module): { key: string; weight: Tensor }[] {
  const out: { key: string; weight: Tensor }[] = [];
  for (const [path, m] of model.namedModules()) {
    if (m instanceof Conv1d || m instanceof Conv2d || m instanceof Linear) out.push({ key: path ? `${path}.weight` : 'weight', weight: m.weight });
  }
  return out;
}

/**
 * The masks of global L1-unstructured pruning of `amount` (a fraction in [0, 1)) of all the given
 * weights' entries together: 0 where pruned, 1 elsewhere, shaped like each weight. Persisted:
 * dispose them when done.
 */
export function globalMagnitudeMasks(weights: readonly { key: string; weight: Tensor }[], amount: number): Map<string, Tensor> {
  if (!(amount >= 0 && amount < 1)) throw new RangeError(`the pruning amount must be a fraction in [0, 1), got ${amount}`);
  if (weights.length === 0) throw new RangeError('nothing to prune: the model has no convolution or linear weights');
  return noGrad(() =>
    scope(() => {
      const scores = cat(weights.map((w) => abs(w.weight.detach().reshape([-1]))));
      const total = scores.shape[0] as number;
      const k = roundHalfEven(amount * total); // torch's _compute_nparams_toprune: round() of a fraction
      const mask = k > 0 ? indexFill(ones([total]), 0, topk(scores, k, { largest: false })[1], 0) : ones([total]);
      const masks = new Map<string, Tensor>();
      let offset = 0;
      for (const { key, weight } of weights) {
        masks.set(key, persist(mask.narrow(0, offset, weight.numel()).reshape(weight.shape).contiguous()));
        offset += weight.numel();
      }
      return masks;
    }),
  );
}

/** weight ← weight · mask for every masked weight (by state-dict key): torch's prune.remove. */
export function applyMasks(model: Module, masks: ReadonlyMap<string, Tensor>): void {
  const sd = model.stateDict();
  noGrad(() =>
    scope(() => {
      for (const [key, mask] of masks) {
        const w = sd.get(key);
        if (!w) throw new RangeError(`applyMasks: the model has no tensor '${key}'`);
        w.mul_(mask);
      }
    }),
  );
}

/**
 * Keeps pruned weights at zero while training: their gradients are zeroed after backward (so
 * norms and clipping see what PyTorch's masked reparametrisation gives) and the weights after
 * every optimizer step (weight decay and momentum move nothing that stays masked).
 */
export class MaskCallback implements Callback {
  readonly name = 'prune-masks';
  /** Right after the step, before schedules (40), EMA (45) and checkpoints (100). */
  readonly order = 10;

  constructor(readonly masks: ReadonlyMap<string, Tensor>) {}

  afterBackward(ctx: TrainContext): void {
    const sd = ctx.model.stateDict();
    noGrad(() =>
      scope(() => {
        for (const [key, mask] of this.masks) sd.get(key)?.grad?.mul_(mask);
      }),
    );
  }

  afterStep(ctx: TrainContext): void {
    applyMasks(ctx.model, this.masks);
  }
}
