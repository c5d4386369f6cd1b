// Batch norm whose training statistics are those of the global batch: every rank's share, as
// PyTorch's torch.nn.SyncBatchNorm. With it, N ranks of batch b/N normalise as one process with
// batch b does, so data-parallel training matches one process for models with batch norm too.
//
// The statistics are two sums over ranks (the sum, then the squared deviations from the global
// mean: the two-pass form, as stable as one process's), each through the differentiable all-reduce,
// whose backward sums the ranks' gradients: each rank's loss depends on every rank's batch through
// the shared mean and variance, and PyTorch's backward all-reduces the same two sums. That costs
// two small all-reduces per layer per forward and two per backward, with latency on the critical
// path — the price PyTorch pays too. In eval, and outside a group of several ranks, it is batch norm.
import { batchNorm } from '../nn/functional.js';
import { BatchNorm1d, BatchNorm2d, NormBase, type NormOptions } from '../nn/layers/batchnorm.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../tensor/autograd.js';
import { tensor } from '../tensor/factories.js';
import { cat } from '../tensor/generated/ops.js';
import { scope } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { defaultGroup, isInitialized, type ProcessGroup } from './group.js';

export interface SyncBatchNormOptions extends NormOptions {
  /** The ranks whose batches are normalised together (default: the default group when there is one). */
  group?: ProcessGroup;
}

/** (N, C, …) → same shape; the state dict of BatchNorm1d/2d/3d, so their weights load as they are. */
export class SyncBatchNorm extends NormBase {
  /** The group the statistics are summed over; null: this process's batch alone (batch norm). */
  group: ProcessGroup | null;

  constructor(numFeatures: number, options: SyncBatchNormOptions = {}) {
    super(numFeatures, options, { affine: true, trackRunningStats: true });
    this.group = options.group ?? (isInitialized() ? defaultGroup() : null);
  }

  forward(x: Tensor): Tensor {
    if (x.dim() < 2) throw new RangeError(`expected at least 2D input (got ${x.dim()}D input)`);
    if (x.shape[1] !== this.numFeatures) throw new RangeError(`SyncBatchNorm: expected ${this.numFeatures} channels (dim 1), got input size [${x.shape.join(', ')}]`);
    let factor = this.momentum ?? 0;
    const count = this.numBatchesTracked;
    if (this.training && count) {
      noGrad(() => scope(() => void count.add_(1)));
      if (this.momentum === null) factor = 1 / Number(count.item());
    }
    const group = this.group;
    if (!this.training || !group || group.worldSize === 1) {
      const useBatchStats = this.training || !this.trackRunningStats;
      const stats = !this.training || this.trackRunningStats;
      return batchNorm(x, this.weight, this.bias, stats ? this.runningMean : null, stats ? this.runningVar : null, useBatchStats, factor, this.eps, true);
    }
    // Statistics in float32 at least (Gloo sums no half types; batch norm under autocast is float32 too).
    if (x.dtype === 'float32' || x.dtype === 'float64') return this.#synced(x, group, factor);
    return this.#synced(x.float(), group, factor).to(x.dtype);
  }

  #synced(x: Tensor, group: ProcessGroup, factor: number): Tensor {
    const c = this.numFeatures;
    const dims = [0, ...Array.from({ length: x.dim() - 2 }, (_, i) => i + 2)];
    const perChannel = [1, c, ...Array<number>(x.dim() - 2).fill(1)];
    const local = x.numel() / c;
    // The count rides with the sums (a constant to autograd): a rank with an empty share still joins.
    const first = group.allReduceDifferentiable(cat([x.sum(dims), tensor([local], { dtype: x.dtype })]));
    const n = Number(first.narrow(0, c, 1).item());
    if (n <= 1) throw new RangeError(`Expected more than 1 value per channel when training, got ${n} over ${group.worldSize} ranks`);
    const mean = first.narrow(0, 0, c).div(n);
    const centered = x.sub(mean.view(perChannel));
    const variance = group.allReduceDifferentiable(centered.square().sum(dims)).div(n);
    if (this.runningMean && this.runningVar) {
      const rm = this.runningMean;
      const rv = this.runningVar;
      noGrad(() =>
        scope(() => {
          rm.mul_(1 - factor).add_(mean.detach(), { alpha: factor });
          rv.mul_(1 - factor).add_(variance.detach().mul(n / (n - 1)), { alpha: factor });
        }),
      );
    }
    let y = centered.mul(variance.add(this.eps).rsqrt().view(perChannel));
    if (this.weight && this.bias) y = y.mul(this.weight.view(perChannel)).add(this.bias.view(perChannel));
    return y;
  }
}

/**
 * Replaces every BatchNorm1d/2d in `model` with a SyncBatchNorm over `group` (default: the default
 * group) holding the same parameters, buffers, trainability and mode, as PyTorch's
 * `SyncBatchNorm.convert_sync_batchnorm`; the replaced layers are disposed. Returns the model, or
 * the new layer when `model` itself is a batch norm. Call it before DataParallel and the optimizer
 * are made: they hold the parameters.
 */
export function convertSyncBatchNorm<M extends Module>(model: M, group?: ProcessGroup): M | SyncBatchNorm {
  if (isBatchNorm(model)) return toSync(model, group);
  const paths = [...model.namedModules()].filter(([path, m]) => path !== '' && isBatchNorm(m)).map(([path]) => path);
  for (const path of paths) model.setSubmodule(path, toSync(model.getSubmodule(path) as NormBase, group)).dispose();
  return model;
}

function isBatchNorm(m: Module): m is BatchNorm1d | BatchNorm2d {
  return m instanceof BatchNorm1d || m instanceof BatchNorm2d;
}

function toSync(m: NormBase, group: ProcessGroup | undefined): SyncBatchNorm {
  const sync = new SyncBatchNorm(m.numFeatures, { eps: m.eps, momentum: m.momentum, affine: m.affine, trackRunningStats: m.trackRunningStats, ...(group ? { group } : {}) });
  const pairs: [Tensor | null, Tensor | null][] = [
    [m.weight, sync.weight],
    [m.bias, sync.bias],
    [m.runningMean, sync.runningMean],
    [m.runningVar, sync.runningVar],
    [m.numBatchesTracked, sync.numBatchesTracked],
  ];
  noGrad(() => {
    for (const [from, to] of pairs) if (from && to) to.copy_(from);
  });
  if (m.weight) sync.weight!.requiresGrad_(m.weight.requiresGrad);
  if (m.bias) sync.bias!.requiresGrad_(m.bias.requiresGrad);
  sync.train(m.training);
  return sync;
}
