// Data-parallel training in the trainer: N processes, each on its shard of every global batch,
// train one model as one process would with the whole batch (PyTorch's DistributedDataParallel
// around a training loop). The step stays the standard one; two callbacks do the rest:
//
//   DataParallelCallback (order −25)
//     beforeFit   checks that every rank starts at the same position (a rank that resumed from
//                 another checkpoint than rank 0's, or found none, fails here, naming both) and
//                 that every metric can be summed across ranks; then DataParallel.create: the
//                 same model on every rank, with rank 0's weights.
//     beforeStep  syncGradients(): the gradients averaged over the ranks. It runs after
//                 GradientAccumulation (−30), which defers the steps of a group's first batches —
//                 a deferred step never reaches this callback, so an accumulation group costs one
//                 all-reduce, as DDP's no_sync gives — and before the GradScaler (−20) and
//                 clipping (10), which must see the same gradients on every rank.
//     afterTrain  the epoch's training metrics summed over the ranks (History, at −100, has
//                 written each rank's own), images_per_second the sum of the ranks' rates.
//   DataParallelLoss (order −110)
//     afterLoss   ctx.loss becomes its mean over the ranks (one all-reduce of one number): the
//                 loss of the global batch, which History then records, and on which the
//                 NonFiniteGuard (−50) decides the same on every rank — a rank skipping a batch
//                 alone would leave the others waiting in their all-reduce.
//
// The training source must be a LockstepSource (src/dist/lockstep.ts) over each rank's shard, so
// that every rank runs the same batches; Learner's `reduce` makes validation sum the ranks' shards.
import { DataParallel, type DataParallelOptions } from '../../dist/data-parallel.js';
import { DistError } from '../../dist/errors.js';
import type { ProcessGroup } from '../../dist/group.js';
import { allGatherObject } from '../../dist/objects.js';
import { sumMetrics, type SumAcross } from '../../metrics/reduce.js';
import { tensor } from '../../tensor/factories.js';
import type { Callback, TrainContext } from '../events.js';

/** Sums across the group's ranks with one all-reduce: the adder of Learner's `reduce`. */
export function sumAcrossRanks(group: ProcessGroup): SumAcross {
  return async (values) => {
    const t = tensor(values.slice(), { dtype: 'float64' });
    try {
      await group.allReduce(t, { op: 'sum' });
      return (t.data() as Float64Array).slice();
    } finally {
      t.dispose();
    }
  };
}

export class DataParallelCallback implements Callback {
  readonly name = 'dataParallel';
  readonly order = -25;
  readonly #sum: SumAcross;
  #ddp: DataParallel | undefined;

  constructor(
    readonly group: ProcessGroup,
    readonly options: Omit<DataParallelOptions, 'group'> = {},
  ) {
    this.#sum = sumAcrossRanks(group);
  }

  /** The DataParallel of the fit in progress. */
  get ddp(): DataParallel | undefined {
    return this.#ddp;
  }

  async beforeFit(ctx: TrainContext): Promise<void> {
    const odd = ctx.metricList.find((m) => !m.sums || !m.loadSums);
    if (odd) throw new DistError(`data-parallel training sums each metric over the ranks, and metric '${odd.name}' keeps every score rather than sums: leave it out of the training metrics`, 'config');
    const here = { epoch: ctx.epoch, iteration: ctx.iteration, step: ctx.step, resumed: ctx.resumed };
    const all = await allGatherObject(here, this.group);
    const describe = (p: typeof here) => (p.resumed ? `epoch ${p.epoch}, step ${p.step} (resumed)` : 'the start (nothing to resume)');
    const differ = all.findIndex((p) => describe(p) !== describe(all[0]!) || p.iteration !== all[0]!.iteration);
    if (differ >= 0)
      throw new DistError(
        `rank 0 starts at ${describe(all[0]!)} but rank ${differ} at ${describe(all[differ]!)}: every rank must resume from the same checkpoint ` +
          '(on several machines, the run directory must be on a file system they share)',
        'mismatch',
      );
    this.#ddp = await DataParallel.create(ctx.model, { ...this.options, group: this.group });
  }

  async beforeStep(): Promise<void> {
    if (!this.#ddp) throw new DistError('DataParallelCallback: beforeStep before beforeFit', 'config');
    await this.#ddp.syncGradients();
  }

  async afterTrain(ctx: TrainContext): Promise<void> {
    const rate = ctx.logs['images_per_second'] ?? 0;
    const [total] = await sumMetrics(ctx.metricList, [rate], this.#sum);
    for (const m of ctx.metricList) ctx.logs[`train_${m.name}`] = m.compute();
    ctx.logs['images_per_second'] = total as number;
  }

  afterFit(): void {
    this.#release();
  }

  onError(): void {
    this.#release();
  }

  #release(): void {
    this.#ddp?.dispose();
    this.#ddp = undefined;
  }
}

export class DataParallelLoss implements Callback {
  readonly name = 'dataParallelLoss';
  /** Before History (−100) and the NonFiniteGuard (−50) read the loss. */
  readonly order = -110;

  constructor(readonly group: ProcessGroup) {}

  async afterLoss(ctx: TrainContext): Promise<void> {
    const loss = ctx.loss;
    if (!loss) return;
    // A detached copy: backward runs on the rank's own loss, whose gradient DataParallel averages.
    const mean = loss.detach().float().clone();
    await this.group.allReduce(mean, { op: 'avg' });
    ctx.loss = mean;
  }
}

/** The callbacks of a data-parallel fit over `group` (see the header). */
export function dataParallelCallbacks(group: ProcessGroup, options: Omit<DataParallelOptions, 'group'> = {}): [DataParallelCallback, DataParallelLoss] {
  return [new DataParallelCallback(group, options), new DataParallelLoss(group)];
}
