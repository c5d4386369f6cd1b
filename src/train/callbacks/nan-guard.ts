// Non-finite loss guard. After each loss (and, with checkGradients, after each backward) it looks
// for NaN/Inf and either halts the fit — a failed run (failFit), with a reason naming the epoch,
// batch and step — or skips the batch: no backward/step, so neither the scheduler nor the EMA
// advance. Checking reads the loss from the device once per batch. Weights and buffers that go
// non-finite on their own are caught when a checkpoint or the model is written (../finite.ts).
import { noGrad } from '../../tensor/autograd.js';
import { stack } from '../../tensor/generated/ops.js';
import { scope } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { cancelBatch, failFit, type Callback, type Cancel, type CallbackState, type TrainContext } from '../events.js';

export interface NonFiniteGuardOptions {
  /** 'halt' (default): stop the fit; 'skip': drop the batch and go on. */
  action?: 'halt' | 'skip';
  /** Also check every gradient after backward (one more synchronization per batch). */
  checkGradients?: boolean;
  /** With 'skip': halt anyway after this many consecutive skipped batches (default 10). */
  maxConsecutiveSkips?: number;
}

export class NonFiniteGuard implements Callback {
  readonly name = 'nonFiniteGuard';
  readonly order = -50;
  readonly action: 'halt' | 'skip';
  readonly checkGradients: boolean;
  readonly maxConsecutiveSkips: number;
  /** Batches skipped so far, and in a row. */
  skipped = 0;
  #run = 0;
  /** Where each skip happened: `epoch 1, batch 4 (step 9)`. */
  readonly events: string[] = [];

  constructor(options: NonFiniteGuardOptions = {}) {
    this.action = options.action ?? 'halt';
    this.checkGradients = options.checkGradients ?? false;
    this.maxConsecutiveSkips = options.maxConsecutiveSkips ?? 10;
  }

  afterLoss(ctx: TrainContext): Cancel | undefined {
    const v = ctx.lossValue;
    if (Number.isFinite(v)) {
      if (!this.checkGradients) this.#run = 0;
      return undefined;
    }
    return this.#trip(ctx, `loss is ${v}`);
  }

  afterBackward(ctx: TrainContext): Cancel | undefined {
    if (!this.checkGradients) return undefined;
    const bad = noGrad(() =>
      scope(() => {
        const flags = ctx.model.parameters().map((p) => p.grad).filter((g): g is Tensor => g !== null).map((g) => g.isfinite().all().logicalNot());
        return flags.length > 0 && Boolean(stack(flags).any().item());
      }),
    );
    if (!bad) {
      this.#run = 0;
      return undefined;
    }
    return this.#trip(ctx, 'a gradient has NaN or Inf elements');
  }

  #trip(ctx: TrainContext, what: string): Cancel {
    const where = `epoch ${ctx.epoch}, batch ${ctx.batch} (step ${ctx.step + 1}, iteration ${ctx.iteration + 1})`;
    if (this.action === 'halt') return failFit(`non-finite: ${what} at ${where}`);
    this.skipped += 1;
    this.#run += 1;
    this.events.push(`${what} at ${where}`);
    if (this.#run > this.maxConsecutiveSkips) return failFit(`non-finite: ${this.#run} batches in a row skipped, the last because ${what} at ${where}`);
    return cancelBatch(`non-finite: ${what} at ${where}; batch skipped`);
  }

  stateDict(): CallbackState {
    return { values: { skipped: this.skipped, run: this.#run } };
  }

  loadStateDict(state: CallbackState): void {
    const v = state.values as { skipped: number; run: number };
    this.skipped = v.skipped;
    this.#run = v.run;
  }
}
