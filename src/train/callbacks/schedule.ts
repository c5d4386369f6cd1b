// Steps an LR schedule (optim's schedulers) from the training loop: after every optimizer step of
// its optimizer — a step the GradScaler skipped or an accumulation deferred is no step, so the
// schedule does not advance — or after every epoch. Its state travels in checkpoints.
import type { Optimizer } from '../../optim/optimizer.js';
import type { Scheduler, SchedulerStateDict } from '../../optim/schedulers/base.js';
import type { Callback, CallbackState, TrainContext } from '../events.js';

export interface SchedulerCallbackOptions {
  /** 'step' (default): after each step of the optimizer; 'epoch': after each epoch. */
  every?: 'step' | 'epoch';
  /** The optimizer whose steps count (default: ctx.optimizer); a GAN step gives each schedule its own. */
  optimizer?: Optimizer;
  /** The callback's name, unique in the run (default 'scheduler'). */
  name?: string;
}

export class SchedulerCallback implements Callback {
  readonly name: string;
  /** After History has read the lr a step used; before checkpointing, so a checkpoint holds the stepped schedule. */
  readonly order = 40;
  readonly every: 'step' | 'epoch';
  readonly optimizer: Optimizer | undefined;

  constructor(
    readonly scheduler: Scheduler,
    options: SchedulerCallbackOptions = {},
  ) {
    this.name = options.name ?? 'scheduler';
    this.every = options.every ?? 'step';
    this.optimizer = options.optimizer;
    if (this.every !== 'step' && this.every !== 'epoch') throw new RangeError(`SchedulerCallback: every must be 'step' or 'epoch', got '${String(this.every)}'`);
  }

  afterStep(ctx: TrainContext): void {
    if (this.every === 'step' && ctx.stepOptimizer === (this.optimizer ?? ctx.optimizer)) this.scheduler.step();
  }

  afterEpoch(): void {
    if (this.every === 'epoch') this.scheduler.step();
  }

  stateDict(): CallbackState {
    return { values: this.scheduler.stateDict() };
  }

  loadStateDict(state: CallbackState): void {
    this.scheduler.loadStateDict(state.values as SchedulerStateDict);
  }
}
