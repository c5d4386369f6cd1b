// Batch and instance normalization with running statistics (PyTorch's _NormBase family):
// y = (x - mean) / √(var + eps) · γ + β per channel. In training the batch statistics are used
// and the running ones updated (running = (1 - momentum)·running + momentum·batch, with the
// unbiased batch variance); in eval the running ones are used.
import { noGrad } from '../../tensor/autograd.js';
import { tensor } from '../../tensor/factories.js';
import { empty } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { batchNorm, instanceNorm } from '../functional.js';
import { ones_, zeros_ } from '../init.js';
import { Module } from '../module.js';
import { pyBool, pyFloat } from '../repr.js';

export interface NormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: a cumulative (equal-weight) average. */
  momentum?: number | null;
  /** Learn a per-channel scale γ (`weight`) and shift β (`bias`). */
  affine?: boolean;
  /** Keep running_mean / running_var / num_batches_tracked buffers (used in eval mode). */
  trackRunningStats?: boolean;
}

/** The shared state of batch and instance norm; a marker for "norm layer" (e.g. no weight decay). */
export abstract class NormBase extends Module {
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** γ (C), or null without affine */
  readonly weight: Tensor | null;
  /** β (C), or null without affine */
  readonly bias: Tensor | null;
  /** (C), or null without running statistics */
  readonly runningMean: Tensor | null;
  /** (C), or null without running statistics */
  readonly runningVar: Tensor | null;
  /** int64 scalar counting training batches (updated in place), or null without running statistics */
  readonly numBatchesTracked: Tensor | null;

  constructor(readonly numFeatures: number, o: NormOptions, defaults: Required<Pick<NormOptions, 'affine' | 'trackRunningStats'>>) {
    super();
    this.eps = o.eps ?? 1e-5;
    this.momentum = o.momentum === undefined ? 0.1 : o.momentum;
    this.affine = o.affine ?? defaults.affine;
    this.trackRunningStats = o.trackRunningStats ?? defaults.trackRunningStats;
    this.weight = this.registerParameter('weight', this.affine ? empty([numFeatures]) : null);
    this.bias = this.registerParameter('bias', this.affine ? empty([numFeatures]) : null);
    const track = this.trackRunningStats;
    this.runningMean = this.registerBuffer('running_mean', track ? empty([numFeatures]) : null);
    this.runningVar = this.registerBuffer('running_var', track ? empty([numFeatures]) : null);
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', track ? tensor(0n, { dtype: 'int64' }) : null);
    this.resetParameters();
  }

  /** running_mean = 0, running_var = 1, num_batches_tracked = 0. */
  resetRunningStats(): void {
    if (this.runningMean) zeros_(this.runningMean);
    if (this.runningVar) ones_(this.runningVar);
    if (this.numBatchesTracked) zeros_(this.numBatchesTracked);
  }

  /** γ = 1, β = 0 (no random draws). */
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${m}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

abstract class BatchNormNd extends NormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options, { affine: true, trackRunningStats: true });
  }

  protected abstract checkInputDim(x: Tensor): void;

  forward(x: Tensor): Tensor {
    this.checkInputDim(x);
    let factor = this.momentum ?? 0;
    const count = this.numBatchesTracked;
    if (this.training && count) {
      // In place: the field, the state dict and any optimizer or EMA holding the counter see it.
      noGrad(() => scope(() => void count.add_(1)));
      if (this.momentum === null) factor = 1 / Number(count.item());
    }
    // Eval without running stats normalizes with the batch's own statistics, as PyTorch does.
    const useBatchStats = this.training || !this.trackRunningStats;
    if (useBatchStats) {
      const s = x.shape;
      if ((s[0] as number) * s.slice(2).reduce((a, b) => a * b, 1) === 1)
        throw new RangeError(`Expected more than 1 value per channel when training, got input size [${s.join(', ')}]`);
    }
    const stats = !this.training || this.trackRunningStats;
    return batchNorm(x, this.weight, this.bias, stats ? this.runningMean : null, stats ? this.runningVar : null, useBatchStats, factor, this.eps, true);
  }
}

export class BatchNorm1d extends BatchNormNd {
  /** (N, C) or (N, C, L) → same shape */
  protected checkInputDim(x: Tensor): void {
    if (x.dim() !== 2 && x.dim() !== 3) throw new RangeError(`expected 2D or 3D input (got ${x.dim()}D input)`);
  }
}

export class BatchNorm2d extends BatchNormNd {
  /** (N, C, H, W) → same shape */
  protected checkInputDim(x: Tensor): void {
    if (x.dim() !== 4) throw new RangeError(`expected 4D input (got ${x.dim()}D input)`);
  }
}

/**
 * Normalizes each (sample, channel) plane over its H×W values. Defaults differ from batch norm:
 * affine=false, trackRunningStats=false. Running stats, when tracked, are updated in training
 * (without counting batches, as PyTorch) and used in eval.
 */
export class InstanceNorm2d extends NormBase {
  constructor(numFeatures: number, options: NormOptions = {}) {
    super(numFeatures, options, { affine: false, trackRunningStats: false });
    if (this.momentum === null) throw new RangeError('InstanceNorm2d: momentum must be a number (PyTorch does not support None here)');
  }

  /** (N, C, H, W) or (C, H, W) → same shape */
  forward(x: Tensor): Tensor {
    if (x.dim() !== 3 && x.dim() !== 4) throw new RangeError(`expected 3D or 4D input (got ${x.dim()}D input)`);
    const channels = x.size(x.dim() - 3);
    if (channels !== this.numFeatures && this.affine)
      throw new RangeError(`expected input's size at dim=${x.dim() - 3} to match num_features (${this.numFeatures}), but got: ${channels}.`);
    if (x.dim() === 3) return this.#apply(x.unsqueeze(0)).squeeze(0); // (C, H, W) → (1, C, H, W) and back
    return this.#apply(x);
  }

  #apply(x: Tensor): Tensor {
    const useInputStats = this.training || !this.trackRunningStats;
    if (useInputStats && x.shape.slice(2).reduce((a, b) => a * b, 1) === 1)
      throw new RangeError(`Expected more than 1 spatial element when training, got input size [${x.shape.join(', ')}]`);
    return instanceNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, useInputStats, this.momentum ?? 0.1, this.eps, true);
  }
}
