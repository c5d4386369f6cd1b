// GanHistory: what a GAN run logs of itself, beside History (which sees only the generator's loss).
// For every batch that completed both updates it adds GanStep.figures — the D and G losses, D(x),
// D(G(z)) before and after D's update — to sums kept on the device (float64; read from the device
// once per point, never per batch), and
//   - every `every` batches, and at the end of each epoch, records a point: the means over the
//     batches since the last point (`points`, for the report's per-batch curves);
//   - at afterTrain writes the epoch's means into ctx.logs (loss_d, loss_g, d_x, d_g_z1, d_g_z2, and
//     lr_d: the discriminator's rate), so the epoch rows of History, the logs and the progress line
//     carry them.
// Points and sums are its checkpoint state: a resumed run's curves include the batches before the
// resume, and end identical to an uninterrupted run's.
import { noGrad } from '../../tensor/autograd.js';
import { persist } from '../../tensor/memory.js';
import { tensor } from '../../tensor/factories.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Callback, CallbackState, TrainContext } from '../events.js';
import { GAN_FIGURES, type GanFigure, type GanStep } from './gan.js';

/** Means over a run of batches: `iteration` is the number of batches trained when it was recorded. */
export type GanPoint = { epoch: number; iteration: number; batches: number } & Record<GanFigure, number>;

export interface GanHistoryOptions {
  /** Record a point every N batches (and at each epoch's end); default 10. */
  every?: number;
  /** Called with each point as it is recorded (a per-batch log). */
  onPoint?: (point: GanPoint) => void;
}

interface Sums {
  values: number[];
  batches: number;
}

interface GanHistoryState {
  points: GanPoint[];
  window: Sums;
  epoch: Sums;
}

const K = GAN_FIGURES.length;
const empty = (): Sums => ({ values: Array<number>(K).fill(0), batches: 0 });

export class GanHistory implements Callback {
  readonly name = 'ganHistory';
  /** Right after History: its afterTrain writes ctx.logs, which this one adds to. */
  readonly order = -90;
  readonly every: number;
  points: GanPoint[] = [];
  /** Σ figures since the last point, on the device. */
  #window: Tensor | undefined;
  #windowBatches = 0;
  /** Σ figures over the epoch's earlier points, on the host (each point's sums are added when it is recorded). */
  #epoch: Sums = empty();
  #restoredWindow: number[] = Array<number>(K).fill(0);

  constructor(
    readonly step: GanStep,
    readonly options: GanHistoryOptions = {},
  ) {
    this.every = options.every ?? 10;
    if (!(Number.isInteger(this.every) && this.every > 0)) throw new RangeError(`GanHistory: every must be a positive integer, got ${this.every}`);
  }

  beforeFit(ctx: TrainContext): void {
    if (!ctx.resumed) {
      this.points = [];
      this.#epoch = empty();
      this.#windowBatches = 0;
      this.#restoredWindow.fill(0);
    }
    this.#release();
    this.#window = persist(tensor(Float64Array.from(this.#restoredWindow), { device: ctx.learner.device }));
  }

  beforeEpoch(ctx: TrainContext): void {
    // A resumed epoch (batch > 0) continues the sums its checkpoint held.
    if (ctx.batch > 0) return;
    noGrad(() => this.#window?.zero_());
    this.#windowBatches = 0;
    this.#epoch = empty();
  }

  afterBatch(ctx: TrainContext): void {
    const f = this.step.figures;
    if (!f) return; // a cancelled batch
    noGrad(() => this.#window?.add_(f.to({ dtype: 'float64' })));
    this.#windowBatches += 1;
    if (this.#windowBatches === this.every) this.#record(ctx);
  }

  afterTrain(ctx: TrainContext): void {
    if (this.#windowBatches > 0) this.#record(ctx);
    const e = this.#epoch;
    GAN_FIGURES.forEach((k, i) => (ctx.logs[k] = e.batches ? (e.values[i] as number) / e.batches : NaN));
    ctx.logs['lr_d'] = this.step.optimizers.discriminator.paramGroups[0]?.lr ?? NaN;
  }

  afterFit(): void {
    this.#release();
  }

  onError(): void {
    this.#release();
  }

  /** The window's means as a point; its sums move into the epoch's. */
  #record(ctx: TrainContext): void {
    const sums = Array.from((this.#window as Tensor).data() as Float64Array);
    const n = this.#windowBatches;
    const point = { epoch: ctx.epoch, iteration: ctx.iteration, batches: n } as GanPoint;
    GAN_FIGURES.forEach((k, i) => {
      point[k] = (sums[i] as number) / n;
      this.#epoch.values[i] = (this.#epoch.values[i] as number) + (sums[i] as number);
    });
    this.#epoch.batches += n;
    this.points.push(point);
    noGrad(() => this.#window?.zero_());
    this.#windowBatches = 0;
    this.options.onPoint?.(point);
  }

  stateDict(): CallbackState {
    const window = this.#window ? Array.from(this.#window.data() as Float64Array) : this.#restoredWindow;
    const state: GanHistoryState = { points: this.points, window: { values: window, batches: this.#windowBatches }, epoch: this.#epoch };
    return { values: state };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as GanHistoryState;
    this.points = v.points.map((p) => ({ ...p }));
    this.#restoredWindow = [...v.window.values];
    this.#windowBatches = v.window.batches;
    this.#epoch = { values: [...v.epoch.values], batches: v.epoch.batches };
  }

  #release(): void {
    this.#window?.dispose();
    this.#window = undefined;
  }
}

