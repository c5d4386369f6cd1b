// The losses' functional forms that are more than one LibTorch op (nn.functional re-exports these
// with the ops that need nothing added: mseLoss, l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy,
// binaryCrossEntropyWithLogits), and the options of the loss modules. Same defaults and reductions as
// PyTorch: 'mean' averages over elements (weighted losses: divides by the summed weights of the
// counted targets, as PyTorch does), 'sum' adds up, 'none' keeps the per-element losses.
import * as ops from '../tensor/generated/ops.js';
import type { Reduction } from '../tensor/generated/enums.js';
import type { Tensor } from '../tensor/tensor.js';

export type { Reduction };

export interface CrossEntropyOptions {
  /** Per-class weights (C). */
  weight?: Tensor | null;
  /** Targets equal to this class index count for nothing (class-index targets only). */
  ignoreIndex?: number;
  reduction?: Reduction;
  /** Mixes the target with the uniform distribution: (1 - ε)·target + ε/C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits (N, C) or (N, C, d1, …) against class indices (N) / (N, d1, …) int64,
 * or against class probabilities of the input's shape (soft targets). PyTorch's F.cross_entropy:
 * LibTorch's `cross_entropy_loss` op under PyTorch's functional name (the same function as `crossEntropyLoss`).
 */
export const crossEntropy: (input: Tensor, target: Tensor, options?: CrossEntropyOptions) => Tensor = ops.crossEntropyLoss;

export interface NLLOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/**
 * Negative log-likelihood of log-probabilities (N, C) or (N, C, d1, …, dk), any k, at class indices
 * (N) / (N, d1, …, dk): PyTorch's F.nll_loss (ATen's `nll_loss_nd`). The op `nllLoss` takes (N, C) only.
 */
export function nllLossNd(input: Tensor, target: Tensor, o: NLLOptions = {}): Tensor {
  const [w, r, ig] = [o.weight ?? null, o.reduction ?? 'mean', o.ignoreIndex ?? -100];
  const d = input.dim();
  if (d <= 2) return ops.nllLoss(input, target, w, r, ig);
  if (d === 4) return ops.nllLoss2d(input, target, w, r, ig);
  // Other ranks go through the 2-D kernel, as ATen's nll_loss_nd does.
  const [n, c] = input.shape as [number, number];
  const flatIn = input.contiguous().view(n, c, 1, -1); // (N, C, d1, …) → (N, C, 1, d1·…)
  const flatTarget = target.contiguous().view(n, 1, -1); // (N, d1, …) → (N, 1, d1·…)
  const out = ops.nllLoss2d(flatIn, flatTarget, w, r, ig);
  return r === 'none' ? out.view([n, ...input.shape.slice(2)]) : out;
}

export interface BCEOptions {
  /** Rescales each element's loss (broadcast to the input's shape). */
  weight?: Tensor | null;
  reduction?: Reduction;
}

export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of the positive term per class (broadcast over the last dim): > 1 raises recall. */
  posWeight?: Tensor | null;
}

/** PyTorch's check in F.binary_cross_entropy(_with_logits): a target of another shape is refused, never broadcast. */
export function checkSameShape(fn: string, input: Tensor, target: Tensor): void {
  const [a, b] = [input.shape, target.shape];
  if (a.length !== b.length || a.some((s, i) => s !== b[i]))
    throw new RangeError(`${fn}: using a target size ([${b.join(', ')}]) that is different to the input size ([${a.join(', ')}]) is not supported`);
}

export type KLReduction = Reduction | 'batchmean';

/**
 * KL(target ‖ input) with `input` log-probabilities: Σ target·(log target - input); PyTorch's
 * F.kl_div with every reduction of nn.KLDivLoss. Use 'batchmean' (sum / batch size) for the true
 * KL divergence; 'mean' averages over all elements. (The op `klDiv` has no 'batchmean'.)
 */
export function klDivLoss(input: Tensor, target: Tensor, o: { reduction?: KLReduction; logTarget?: boolean } = {}): Tensor {
  const r = o.reduction ?? 'mean';
  const logTarget = o.logTarget ?? false;
  if (r !== 'batchmean') return ops.klDiv(input, target, r, { logTarget });
  const total = ops.klDiv(input, target, 'sum', { logTarget });
  return input.dim() === 0 ? total : total.div(input.size(0));
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}

export interface SigmoidFocalOptions {
  /** Weight of positives in [0, 1] (negatives get 1 - α); negative disables it. Default 0.25. */
  alpha?: number;
  /** Focusing exponent: easy examples (p_t → 1) are down-weighted by (1 - p_t)^γ. Default 2. */
  gamma?: number;
  reduction?: Reduction;
}

/**
 * Binary focal loss on logits (Lin et al. 2017; torchvision.ops.sigmoid_focal_loss):
 * α_t·(1 - p_t)^γ·BCE(x, y), p_t = p·y + (1 - p)·(1 - y). Targets are 0/1 floats of x's shape.
 * Note: torchvision's default reduction is 'none'; ours is 'mean' like every loss here.
 */
export function sigmoidFocalLoss(input: Tensor, target: Tensor, o: SigmoidFocalOptions = {}): Tensor {
  const [alpha, gamma] = [o.alpha ?? 0.25, o.gamma ?? 2];
  checkSameShape('sigmoidFocalLoss', input, target);
  const p = input.sigmoid();
  const ce = ops.binaryCrossEntropyWithLogits(input, target, { reduction: 'none' });
  const pt = p.mul(target).add(ops.rsub(p, 1).mul(ops.rsub(target, 1)));
  let loss = ce.mul(ops.rsub(pt, 1).pow(gamma));
  if (alpha >= 0) loss = target.mul(alpha).add(ops.rsub(target, 1).mul(1 - alpha)).mul(loss);
  return reduce(loss, o.reduction ?? 'mean');
}

export interface FocalOptions {
  gamma?: number;
  /** One weight for all classes, or per-class weights (C). Default: none. */
  alpha?: number | Tensor | null;
  ignoreIndex?: number;
  reduction?: Reduction;
}

/**
 * Multi-class focal loss on logits (N, C) or (N, C, d1, …) against class indices:
 * -α_y·(1 - p_y)^γ·log p_y, p = softmax(x). 'mean' divides by the summed α_y of the counted
 * targets when α is per-class (so γ = 0 is exactly crossEntropy with weight α), else by their count.
 */
export function focalLoss(input: Tensor, target: Tensor, o: FocalOptions = {}): Tensor {
  const [gamma, alpha, ignoreIndex, reduction] = [o.gamma ?? 2, o.alpha ?? null, o.ignoreIndex ?? -100, o.reduction ?? 'mean'];
  const valid = target.ne(ignoreIndex); // (N, d1, …)
  const safe = target.maskedFill(valid.logicalNot(), 0);
  const logpt = ops.logSoftmax(input, 1).gather(1, safe.unsqueeze(1)).squeeze(1); // (N, C, …) → (N, …)
  let loss = ops.rsub(logpt.exp(), 1).pow(gamma).mul(logpt).neg();
  let weight: Tensor = valid.to(input.dtype);
  if (alpha !== null && typeof alpha !== 'number') {
    weight = weight.mul(alpha.indexSelect(0, safe.flatten()).view(safe.shape)); // α_y, (N, …)
  } else if (alpha !== null) {
    loss = loss.mul(alpha);
  }
  loss = loss.mul(weight);
  if (reduction === 'none') return loss;
  return reduction === 'sum' ? loss.sum() : loss.sum().div(weight.sum());
}
