// nn.functional: the stateless forms of the layers and losses, as torch.nn.functional. Every layer's
// forward is one of these applied to its parameters (STYLE §5: stateless function + tiny module).
//
// Names are torch.nn.functional's in camelCase, and a name means one function. Where a LibTorch op
// already is the functional form, this is that very op, re-exported with ATen's argument order:
// `batchNorm(input, weight, bias, runningMean, runningVar, training, momentum, eps, cudnnEnabled)`,
// `embedding(weight, indices)`, `dropout(input, p, train)`, `featureDropout` (PyTorch's dropout2d),
// `adaptiveMaxPool2d` → [output, indices]. What no op does is written here (`interpolate`,
// `softsign`, `tanhshrink`) or in ../losses.ts; where PyTorch's function does more than the op of
// the same name, ours has a name of its own (`nllLossNd` for any rank, `klDivLoss` with 'batchmean'),
// so that `tessera.nllLoss` and a functional form are never two different functions under one name.
import { upsampleBilinear2d, upsampleNearest2d } from '../tensor/generated/ops.js';
import type { Tensor } from '../tensor/tensor.js';
import { ntuple } from './repr.js';

export {
  // linear and convolution
  linear, conv1d, conv2d, convTranspose2d,
  // pooling and rearranging
  maxPool1d, maxPool2d, avgPool1d, avgPool2d, adaptiveAvgPool1d, adaptiveAvgPool2d, adaptiveMaxPool2d, pixelShuffle, pixelUnshuffle, pad,
  // normalization
  batchNorm, instanceNorm, layerNorm, groupNorm,
  // dropout
  dropout, featureDropout, alphaDropout,
  // lookup
  embedding, oneHot,
  // activations
  relu, relu6, leakyRelu, elu, selu, celu, gelu, silu, mish, hardswish, hardsigmoid, hardtanh, softplus, logSigmoid, glu, prelu, sigmoid, tanh,
  softmax, logSoftmax,
  // losses and distances that are one op
  mseLoss, l1Loss, smoothL1Loss, huberLoss, binaryCrossEntropy, binaryCrossEntropyWithLogits, marginRankingLoss, cosineSimilarity, pairwiseDistance,
} from '../tensor/generated/ops.js';
export {
  crossEntropy, nllLossNd, klDivLoss, sigmoidFocalLoss, focalLoss,
  type CrossEntropyOptions, type NLLOptions, type KLReduction, type SigmoidFocalOptions, type FocalOptions, type Reduction,
} from './losses.js';
export { diceLoss, diceCrossEntropyLoss, type DiceOptions, type DiceCEOptions, type DiceMode } from './losses-segmentation.js';

/** x / (1 + |x|) */
export function softsign(x: Tensor): Tensor {
  return x.div(x.abs().add(1));
}

/** x - tanh(x) */
export function tanhshrink(x: Tensor): Tensor {
  return x.sub(x.tanh());
}

export type InterpolateMode = 'nearest' | 'bilinear';

export interface InterpolateOptions {
  /** Output [H, W] (or one int for both). Exactly one of size and scaleFactor. */
  size?: number | readonly [number, number] | null;
  /** Output = floor(input · scale); the scale itself (not the rounded size) drives the sampling. */
  scaleFactor?: number | readonly [number, number] | null;
  /** Default 'nearest'. */
  mode?: InterpolateMode;
  /** bilinear only: align the corner pixels' centers of input and output (default false). */
  alignCorners?: boolean | null;
}

/** Resamples (N, C, H, W) → (N, C, H_out, W_out): PyTorch's F.interpolate for 4-D inputs. */
export function interpolate(x: Tensor, o: InterpolateOptions): Tensor {
  const mode = o.mode ?? 'nearest';
  if (x.dim() !== 4) throw new RangeError(`interpolate(mode=${mode}) supports 4-D input (N, C, H, W), got ${x.dim()}-D`);
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(o.size) === given(o.scaleFactor)) throw new RangeError('interpolate: give exactly one of size and scaleFactor');
  if (mode === 'nearest' && given(o.alignCorners))
    throw new RangeError('align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear');
  const size = given(o.size) ? ntuple(o.size as number | readonly number[], 2, 'size') : null;
  const scales = given(o.scaleFactor) ? ntuple(o.scaleFactor as number | readonly number[], 2, 'scale_factor') : null;
  return mode === 'nearest' ? upsampleNearest2d(x, size, scales) : upsampleBilinear2d(x, size, o.alignCorners ?? false, scales);
}
