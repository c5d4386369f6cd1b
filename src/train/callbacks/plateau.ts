// Drives optim's ReduceLROnPlateau from the epoch logs: after each epoch it steps the scheduler
// with the monitored value. The scheduler's counters travel in checkpoints with this callback.
import type { ReduceLROnPlateau } from '../../optim/schedulers/plateau.js';
import type { SchedulerStateDict } from '../../optim/schedulers/base.js';
import type { Callback, CallbackState, TrainContext } from '../events.js';
import { monitored } from './monitor.js';

export class ReduceLROnPlateauCallback implements Callback {
  readonly name = 'reduceLROnPlateau';
  /** Before checkpointing, so a checkpoint written after the epoch holds the reduced lr. */
  readonly order = 40;

  constructor(
    readonly scheduler: ReduceLROnPlateau,
    /** A key of the epoch logs (default 'val_loss'); the scheduler's own mode says which way is better. */
    readonly monitor = 'val_loss',
  ) {}

  afterEpoch(ctx: TrainContext): void {
    this.scheduler.step(monitored(ctx, this.monitor, 'ReduceLROnPlateauCallback'));
  }

  stateDict(): CallbackState {
    return { values: this.scheduler.stateDict() };
  }

  loadStateDict(state: CallbackState): void {
    this.scheduler.loadStateDict(state.values as SchedulerStateDict);
  }
}
