// Early stopping: end the fit when the monitored value has not improved by more than minDelta for
// `patience` epochs, optionally putting the best epoch's weights back into the model at the end.
// Counters, the best value and the best weights are saved in checkpoints, so a resumed run stops
// at the same epoch as an uninterrupted one.
import { noGrad } from '../../tensor/autograd.js';
import { persist } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { cancelFit, type Callback, type CallbackState, type TrainContext } from '../events.js';
import { improves, modeFor, monitored, worst, type Mode } from './monitor.js';

export interface EarlyStoppingOptions {
  /** A key of the epoch logs (default 'val_loss'). */
  monitor?: string;
  /** Default: from the monitor ('min' for losses, the metric's mode otherwise). */
  mode?: Mode;
  /** Epochs without improvement tolerated (default 3). */
  patience?: number;
  /** Smaller changes do not count as improvement (default 0). */
  minDelta?: number;
  /** Load the best epoch's weights into the model when the fit ends (default false). */
  restoreBestWeights?: boolean;
}

export class EarlyStopping implements Callback {
  readonly name = 'earlyStopping';
  readonly order = 50;
  readonly monitor: string;
  readonly patience: number;
  readonly minDelta: number;
  readonly restoreBestWeights: boolean;
  #mode: Mode | undefined;
  best = NaN;
  bestEpoch = -1;
  /** Epochs since the last improvement. */
  wait = 0;
  stoppedEpoch = -1;
  #bestWeights: Map<string, Tensor> | undefined;

  constructor(options: EarlyStoppingOptions = {}) {
    this.monitor = options.monitor ?? 'val_loss';
    this.#mode = options.mode;
    this.patience = options.patience ?? 3;
    this.minDelta = Math.abs(options.minDelta ?? 0);
    this.restoreBestWeights = options.restoreBestWeights ?? false;
    if (!Number.isInteger(this.patience) || this.patience < 0) throw new RangeError(`EarlyStopping: patience must be a non-negative integer, got ${this.patience}`);
  }

  beforeFit(ctx: TrainContext): void {
    this.#mode ??= modeFor(ctx, this.monitor);
    if (!ctx.resumed) {
      this.best = worst(this.#mode);
      this.bestEpoch = -1;
      this.wait = 0;
      this.stoppedEpoch = -1;
    }
  }

  afterEpoch(ctx: TrainContext) {
    const mode = this.#mode ?? modeFor(ctx, this.monitor);
    const value = monitored(ctx, this.monitor, 'EarlyStopping');
    if (improves(mode, value, this.best, this.minDelta)) {
      this.best = value;
      this.bestEpoch = ctx.epoch;
      this.wait = 0;
      if (this.restoreBestWeights) this.#keepWeights(ctx.model.stateDict());
      return undefined;
    }
    this.wait += 1;
    if (this.wait < this.patience) return undefined;
    this.stoppedEpoch = ctx.epoch;
    return cancelFit(`early stopping: ${this.monitor} has not improved on ${this.best} (epoch ${this.bestEpoch}) for ${this.wait} epochs`);
  }

  afterFit(ctx: TrainContext): void {
    if (this.restoreBestWeights && this.#bestWeights && this.bestEpoch !== ctx.epoch) ctx.model.loadStateDict(this.#bestWeights);
    this.#release();
  }

  onError(): void {
    this.#release();
  }

  stateDict(): CallbackState {
    return {
      values: { best: this.best, bestEpoch: this.bestEpoch, wait: this.wait, stoppedEpoch: this.stoppedEpoch },
      ...(this.#bestWeights ? { tensors: this.#bestWeights } : {}),
    };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as { best: number; bestEpoch: number; wait: number; stoppedEpoch: number };
    this.best = v.best;
    this.bestEpoch = v.bestEpoch;
    this.wait = v.wait;
    this.stoppedEpoch = v.stoppedEpoch;
    if (state.tensors) this.#keepWeights(state.tensors);
  }

  #keepWeights(sd: ReadonlyMap<string, Tensor>): void {
    this.#release();
    this.#bestWeights = noGrad(() => new Map([...sd].map(([k, t]) => [k, persist(t.clone())])));
  }

  #release(): void {
    for (const t of this.#bestWeights?.values() ?? []) t.dispose();
    this.#bestWeights = undefined;
  }
}
