// Keeps optim's ModelEMA (an exponential moving average of the weights) up to date: one update
// after every optimizer step. With `validate`, each validation also scores the averaged weights,
// logged as `ema_val_loss` and `ema_val_<metric>`: they are swapped into the model for the pass
// and the trained weights put back. The average travels in checkpoints (callbacks/ema/<key>).
import type { ModelEMA } from '../../optim/ema.js';
import { noGrad } from '../../tensor/autograd.js';
import { persist, scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { Callback, CallbackState, TrainContext } from '../events.js';

export interface EMACallbackOptions {
  /** Also validate the EMA weights after each epoch's validation (default false). */
  validate?: boolean;
}

export class EMACallback implements Callback {
  readonly name = 'ema';
  /** After the schedules (40) at afterStep; before the checkpoint (100). */
  readonly order = 45;
  readonly validate: boolean;

  constructor(
    readonly ema: ModelEMA,
    options: EMACallbackOptions = {},
  ) {
    this.validate = options.validate ?? false;
  }

  afterStep(ctx: TrainContext): void {
    this.ema.update(ctx.model);
  }

  async afterValidate(ctx: TrainContext): Promise<void> {
    if (!this.validate || !ctx.val || !('val_loss' in ctx.logs)) return;
    const model = ctx.model;
    const trained = noGrad(() => scope(() => new Map([...model.stateDict()].map(([k, v]) => [k, persist(v.clone())]))));
    try {
      this.ema.copyTo(model);
      const r = await ctx.learner.evaluate(ctx.val);
      ctx.logs['ema_val_loss'] = r.loss;
      for (const [k, v] of Object.entries(r.metrics)) ctx.logs[`ema_val_${k}`] = v;
    } finally {
      model.loadStateDict(trained);
      for (const t of trained.values()) t.dispose();
    }
  }

  stateDict(): CallbackState {
    const sd = this.ema.stateDict();
    return { values: { updates: sd.updates }, tensors: sd.weights };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as { updates: number };
    this.ema.loadStateDict({ weights: state.tensors ?? new Map<string, Tensor>(), updates: v.updates });
  }
}
