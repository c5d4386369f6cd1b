// Normalizations without running statistics: LayerNorm and GroupNorm. Same math in train and eval.
import { empty } from '../../tensor/generated/ops.js';
import type { Tensor } from '../../tensor/tensor.js';
import { groupNorm, layerNorm } from '../functional.js';
import { ones_, zeros_ } from '../init.js';
import { Module } from '../module.js';
import { pyBool, pyFloat, pyTuple } from '../repr.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learn a scale (`weight`, init 1) and shift (`bias`, init 0) of shape normalizedShape. */
  elementwiseAffine?: boolean;
}

/** y = (x - E[x]) / √(Var[x] + eps) · γ + β, statistics over the trailing `normalizedShape` dims. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  /** γ of shape normalizedShape, or null without elementwiseAffine */
  readonly weight: Tensor | null;
  /** β of shape normalizedShape, or null without elementwiseAffine */
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', this.elementwiseAffine ? empty(this.normalizedShape) : null);
    this.bias = this.registerParameter('bias', this.elementwiseAffine ? empty(this.normalizedShape) : null);
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** (…, *normalizedShape) → same shape */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps, true);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

export interface GroupNormOptions {
  eps?: number;
  /** Learn a per-channel scale (`weight`, init 1) and shift (`bias`, init 0). */
  affine?: boolean;
}

/** Splits the C channels into `numGroups` groups and normalizes each (sample, group) over its values. */
export class GroupNorm extends Module {
  readonly eps: number;
  readonly affine: boolean;
  /** γ (C), or null without affine */
  readonly weight: Tensor | null;
  /** β (C), or null without affine */
  readonly bias: Tensor | null;

  constructor(readonly numGroups: number, readonly numChannels: number, options: GroupNormOptions = {}) {
    super();
    if (numChannels % numGroups !== 0) throw new RangeError('num_channels must be divisible by num_groups');
    this.eps = options.eps ?? 1e-5;
    this.affine = options.affine ?? true;
    this.weight = this.registerParameter('weight', this.affine ? empty([numChannels]) : null);
    this.bias = this.registerParameter('bias', this.affine ? empty([numChannels]) : null);
    this.resetParameters();
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** (N, C, *) → same shape */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps, true);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}
