// History: what a run remembers of itself, as a callback every fit has (fastai's Recorder, Keras'
// History). Over each epoch's training batches it sums the loss (weighted by batch size, on the
// device, read once per epoch) and feeds the metrics; at afterTrain it writes the epoch's logs:
//   epoch, step, train_loss, train_<metric>, lr (and lr_<group>), epoch_time, images_per_second
// where `lr` is the rate the epoch's last optimizer step used (a schedule has already moved on by
// the time the epoch ends); at afterEpoch, once validation has added val_*, it keeps the row.
// Every `lrEvery` steps it also records the lr a step used, for the report's LR curve.
// Rows, curve and the partial epoch's sums are its checkpoint state, so a resumed run's history
// includes the epochs before the resume.
import { noGrad } from '../../tensor/autograd.js';
import { scalarTensor } from '../../tensor/factories.js';
import { persist } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { metricTakes } from '../evaluate.js';
import type { Callback, CallbackState, TrainContext } from '../events.js';

export interface HistoryOptions {
  /** Record the lr of every N-th optimizer step in `lrCurve` (default: none). */
  lrEvery?: number;
}

interface HistoryState {
  rows: Record<string, number>[];
  lrCurve: { step: number; lr: number }[];
  epochLoss: { sum: number; samples: number };
  stepLrs: number[] | null;
}

export class History implements Callback {
  readonly name = 'history';
  /** First: every other callback of afterTrain/afterEpoch reads the logs it writes; its afterStep reads the lr before a schedule changes it. */
  readonly order = -100;
  readonly lrEvery: number | undefined;
  /** One row per completed epoch of the run. */
  rows: Record<string, number>[] = [];
  /** The lr (of the first group) used by every lrEvery-th optimizer step. */
  lrCurve: { step: number; lr: number }[] = [];
  /** Σ loss·n over the epoch's batches (float64, on the device) and Σ n. */
  #sum: Tensor | undefined;
  #restoredSum = 0;
  #samples = 0;
  /** The lrs of the last optimizer step. */
  #stepLrs: number[] | undefined;
  #epochStart = 0;
  /** Samples trained since beforeEpoch in this process (a resumed epoch's earlier ones excluded), for images/s. */
  #seen = 0;

  constructor(options: HistoryOptions = {}) {
    this.lrEvery = options.lrEvery;
    if (this.lrEvery !== undefined && !(Number.isInteger(this.lrEvery) && this.lrEvery > 0)) throw new RangeError(`History: lrEvery must be a positive integer, got ${this.lrEvery}`);
  }

  beforeFit(ctx: TrainContext): void {
    if (!ctx.resumed) {
      this.rows = [];
      this.lrCurve = [];
      this.#restoredSum = 0;
      this.#samples = 0;
      this.#stepLrs = undefined;
    }
    this.#release();
    this.#sum = persist(scalarTensor(this.#restoredSum, { dtype: 'float64', device: ctx.learner.device }));
  }

  beforeEpoch(ctx: TrainContext): void {
    for (const m of ctx.metricList) m.reset();
    // A resumed epoch (batch > 0) continues the sums its checkpoint held.
    if (ctx.batch === 0) {
      noGrad(() => this.#sum?.zero_());
      this.#samples = 0;
    }
    this.#epochStart = performance.now();
    this.#seen = 0;
  }

  afterLoss(ctx: TrainContext): void {
    const loss = ctx.loss;
    if (!loss) return;
    noGrad(() => this.#sum?.add_(loss.detach(), { alpha: ctx.batchSize })); // float64 += float32·n, on the device
    this.#samples += ctx.batchSize;
    this.#seen += ctx.batchSize;
    const { output, y } = ctx;
    if (output && y) for (const m of ctx.metricList) if (metricTakes(m, y)) m.update(output, y);
  }

  afterStep(ctx: TrainContext): void {
    if (ctx.stepOptimizer !== ctx.optimizer) return;
    this.#stepLrs = ctx.lrs;
    if (this.lrEvery !== undefined && ctx.step % this.lrEvery === 0) this.lrCurve.push({ step: ctx.step, lr: this.#stepLrs[0] as number });
  }

  afterTrain(ctx: TrainContext): void {
    const seconds = (performance.now() - this.#epochStart) / 1000;
    const logs: Record<string, number> = { epoch: ctx.epoch, step: ctx.step };
    logs['train_loss'] = this.#samples ? Number(this.#sum?.item()) / this.#samples : NaN;
    for (const m of ctx.metricList) logs[`train_${m.name}`] = m.compute();
    (this.#stepLrs ?? ctx.lrs).forEach((lr, i) => (logs[i === 0 ? 'lr' : `lr_${i}`] = lr));
    logs['epoch_time'] = seconds;
    logs['images_per_second'] = seconds > 0 ? this.#seen / seconds : 0;
    ctx.logs = logs;
  }

  afterEpoch(ctx: TrainContext): void {
    this.rows.push({ ...ctx.logs });
  }

  afterFit(): void {
    this.#release();
  }

  onError(): void {
    this.#release();
  }

  stateDict(): CallbackState {
    const state: HistoryState = {
      rows: this.rows,
      lrCurve: this.lrCurve,
      epochLoss: { sum: this.#sum ? Number(this.#sum.item()) : this.#restoredSum, samples: this.#samples },
      stepLrs: this.#stepLrs ?? null,
    };
    return { values: state };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as HistoryState;
    this.rows = v.rows.map((r) => ({ ...r }));
    this.lrCurve = v.lrCurve.map((p) => ({ ...p }));
    this.#restoredSum = v.epochLoss.sum;
    this.#samples = v.epochLoss.samples;
    this.#stepLrs = v.stepLrs ?? undefined;
  }

  #release(): void {
    this.#sum?.dispose();
    this.#sum = undefined;
  }
}
