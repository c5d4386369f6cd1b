// The training step: what runs between beforeBatch and afterBatch, as an object the user can
// replace without forking the trainer (fit({ step })).
//
// The interface:
//   interface TrainStep {
//     readonly optimizers: Record<string, Optimizer>;   // what it updates, by name
//     run(t: StepTools): Promise<void> | void;          // one batch
//   }
// `optimizers` are checkpointed under their names and restored on resume, zeroed when a batch is
// cancelled, and the first one is ctx.optimizer (its lrs are the logged `lr`). Models are the
// learner's model: a step with several networks gets them as children of one Module (a GAN's
// generator and discriminator), so one state dict checkpoints them all.
//
// run() drives the batch through StepTools, whose operations fire the events, so callbacks work
// for any step. Await each operation: it settles at once when the callbacks are synchronous.
// (test/train/fixtures/gan.ts is a complete example.)
//   t.forward(fn)    fn() under the learner's mixed precision; ctx.output ← it; afterForward
//   t.loss(fn)       the same for the batch's loss; ctx.loss ← it; afterLoss (History sums it)
//   t.backward(l)    ctx.gradLoss ← l; beforeBackward (loss scaling may replace it);
//                    ctx.gradLoss.backward(); afterBackward
//   t.step(opt)      ctx.stepOptimizer ← opt; beforeStep — the hook between backward and the
//                    update, where gradients are accumulated, unscaled, all-reduced across
//                    processes and clipped, and where a callback may cancel or defer the step —
//                    then opt.step(), opt.zeroGrad(), afterStep (schedules, EMA). Resolves to
//                    whether the optimizer stepped.
//   t.autocast(fn)   fn() under mixed precision, firing nothing (a GAN's fake images).
//   t.x, t.y         the batch on the learner's device.
// A callback's cancelBatch/Epoch/Fit makes the pending operation throw a private signal that the
// trainer catches after run(): a step needs no checks of its own, but must let that throw pass
// (no catch-all). A step that runs no t.step() trains nothing, and fit() says so.
//
// The standard step (SupervisedStep) is four lines: forward, loss, backward, step. A GAN step
// alternates two optimizers; data-parallel training keeps this step and all-reduces the
// gradients in a beforeStep callback.
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import { settle, type Context } from './context.js';
import { callLoss } from './evaluate.js';
import type { Cancel, EventName, TrainContext } from './events.js';
import { withPrecision, type LossFn, type MixedPrecision, type Model } from './inference.js';
import type { Timings } from './timings.js';

/** What a step drives a batch with. Each operation resolves synchronously when its callbacks are synchronous: await it either way. */
export interface StepTools {
  readonly ctx: TrainContext;
  /** The batch's inputs and targets on the learner's device. */
  readonly x: Tensor;
  readonly y: Tensor;
  autocast<T>(fn: () => T): T;
  forward(fn: () => Tensor): Tensor | Promise<Tensor>;
  loss(fn: () => Tensor): Tensor | Promise<Tensor>;
  backward(loss: Tensor): void | Promise<void>;
  step(optimizer: Optimizer): boolean | Promise<boolean>;
}

export interface TrainStep {
  readonly optimizers: Readonly<Record<string, Optimizer>>;
  run(t: StepTools): Promise<void> | void;
}

/** forward → loss → backward → step: supervised training with one model, one loss, one optimizer. */
export class SupervisedStep implements TrainStep {
  readonly optimizers: Readonly<Record<string, Optimizer>>;

  constructor(
    readonly model: Model,
    readonly lossFn: LossFn,
    readonly optimizer: Optimizer,
  ) {
    this.optimizers = { optimizer };
  }

  async run(t: StepTools): Promise<void> {
    const output = await t.forward(() => this.model.forward(t.x));
    const loss = await t.loss(() => callLoss(this.lossFn, output, t.y));
    await t.backward(loss);
    await t.step(this.optimizer);
  }
}

/** Unwinds a step when a callback cancels its batch, epoch or fit. */
class Cancelled {
  constructor(readonly signal: Cancel) {}
}

/** @internal The trainer's StepTools: one per fit(), reset for every batch. */
export class StepRunner implements StepTools {
  readonly #optimizers: Optimizer[];
  /** Whether the gradients held since the last step are counted in ctx.pendingBatches. */
  #counted = false;
  /** Inside run(): checkpoints would not be exact. */
  active = false;

  constructor(
    readonly ctx: Context,
    readonly trainStep: TrainStep,
    private readonly emit: (event: EventName) => Cancel | undefined | Promise<Cancel | undefined>,
    private readonly device: string,
    private readonly precision: MixedPrecision,
    private readonly timings: Timings,
  ) {
    this.#optimizers = Object.values(trainStep.optimizers);
  }

  get x(): Tensor {
    return this.ctx.x as Tensor;
  }

  get y(): Tensor {
    return this.ctx.y as Tensor;
  }

  /** Runs the step on the current batch; resolves to the cancel signal that ended it early, if any. */
  run(): Cancel | undefined | Promise<Cancel | undefined> {
    this.#counted = false;
    return this.#guard(() => this.trainStep.run(this));
  }

  /** Steps the gradients an epoch left held (deferred steps at the end of an epoch of unknown length). */
  flush(): Cancel | undefined | Promise<Cancel | undefined> {
    this.ctx.lastBatch = true;
    return this.#guard(async () => {
      for (const o of this.#optimizers) await this.step(o);
    });
  }

  /** Drops every held gradient (a cancelled batch, a stopped fit). */
  dropGradients(): void {
    for (const o of this.#optimizers) o.zeroGrad();
    this.ctx.pendingBatches = 0;
  }

  autocast<T>(fn: () => T): T {
    return withPrecision(this.precision, this.device, fn);
  }

  forward(fn: () => Tensor): Tensor | Promise<Tensor> {
    const t0 = performance.now();
    const output = this.autocast(fn);
    this.timings.add('forward', performance.now() - t0);
    this.ctx.output = output;
    return this.#event('afterForward', output);
  }

  loss(fn: () => Tensor): Tensor | Promise<Tensor> {
    const t0 = performance.now();
    const loss = this.autocast(fn);
    this.timings.add('forward', performance.now() - t0);
    this.ctx.loss = loss;
    return this.#event('afterLoss', loss);
  }

  backward(loss: Tensor): void | Promise<void> {
    this.ctx.gradLoss = loss;
    return settle(this.#event('beforeBackward', undefined), () => {
      const t0 = performance.now();
      (this.ctx.gradLoss ?? loss).backward();
      this.timings.add('backward', performance.now() - t0);
      if (!this.#counted) {
        this.ctx.pendingBatches += 1;
        this.#counted = true;
      }
      return this.#event('afterBackward', undefined);
    });
  }

  step(optimizer: Optimizer): boolean | Promise<boolean> {
    const { ctx } = this;
    ctx.stepOptimizer = optimizer;
    return settle(this.emit('beforeStep'), (signal) => {
      if (signal && signal.cancel !== 'step') throw new Cancelled(signal);
      if (signal) {
        if (!signal.keepGradients) this.#release(optimizer);
        return false;
      }
      const t0 = performance.now();
      optimizer.step();
      this.#release(optimizer);
      this.timings.add('optimizer', performance.now() - t0);
      if (!ctx.stepped) {
        ctx.stepped = true;
        ctx.step += 1;
      }
      return this.#event('afterStep', true);
    });
  }

  #release(optimizer: Optimizer): void {
    optimizer.zeroGrad();
    this.ctx.pendingBatches = 0;
    this.#counted = false;
  }

  /** Fires `event`; `value` once its callbacks are done, or a throw that unwinds the step when one cancelled. */
  #event<T>(event: EventName, value: T): T | Promise<T> {
    return settle(this.emit(event), (signal) => {
      if (signal) throw new Cancelled(signal);
      return value;
    });
  }

  #guard(fn: () => unknown): Cancel | undefined | Promise<Cancel | undefined> {
    const caught = (e: unknown): Cancel | undefined => {
      this.active = false;
      if (e instanceof Cancelled) return e.signal;
      throw e;
    };
    this.active = true;
    try {
      return settle(fn(), () => void (this.active = false), caught);
    } catch (e) {
      return caught(e);
    }
  }
}
