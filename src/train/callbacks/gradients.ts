// The callbacks that prepare gradients between backward and the optimizer step (beforeStep), in
// the order they run:
//   GradientAccumulation (−30)  sums the gradients of N batches before one step: it defers the
//                               step until N batches are held (or the epoch ends), then divides
//                               the sum by how many there are, so the step sees their mean.
//   GradScalerCallback   (−20)  fp16 loss scaling (optim's GradScaler): scales the loss before
//                               backward, unscales the gradients before the step and cancels a
//                               step whose gradients overflowed (the scale then shrinks).
//   (your own, at 0)            sees true, averaged gradients: where a distributed run all-reduces.
//   GradientClipping     (10)   clips the joint norm of the stepping optimizer's gradients.
import { clipGradNorm_ } from '../../optim/clip-grad.js';
import type { GradScaler, GradScalerStateDict } from '../../optim/grad-scaler.js';
import { noGrad } from '../../tensor/autograd.js';
import { cancelStep, deferStep, type Callback, type CallbackState, type Cancel, type TrainContext } from '../events.js';

const paramsOf = (ctx: TrainContext) => (ctx.stepOptimizer ?? ctx.optimizer).paramGroups.flatMap((g) => g.params);

export class GradientAccumulation implements Callback {
  readonly name = 'gradientAccumulation';
  readonly order = -30;

  /** `batches`: how many batches' gradients make one optimizer step. */
  constructor(readonly batches: number) {
    if (!Number.isInteger(batches) || batches < 1) throw new RangeError(`GradientAccumulation: batches must be a positive integer, got ${batches}`);
  }

  beforeStep(ctx: TrainContext): Cancel | undefined {
    const held = ctx.pendingBatches;
    // A short group at the end of an epoch still steps, with the mean of the batches it has.
    if (held < this.batches && !ctx.lastBatch) return deferStep(`accumulating gradients: ${held} of ${this.batches} batches`);
    if (held > 1) noGrad(() => paramsOf(ctx).forEach((p) => p.grad?.div_(held)));
    return undefined;
  }
}

export class GradScalerCallback implements Callback {
  readonly name = 'gradScaler';
  readonly order = -20;

  constructor(readonly scaler: GradScaler) {}

  beforeBackward(ctx: TrainContext): void {
    if (ctx.gradLoss) ctx.gradLoss = this.scaler.scale(ctx.gradLoss);
  }

  beforeStep(ctx: TrainContext): Cancel | undefined {
    const optimizer = ctx.stepOptimizer ?? ctx.optimizer;
    this.scaler.unscale_(optimizer);
    if (!this.scaler.foundInf(optimizer)) return undefined;
    const scale = this.scaler.getScale();
    this.scaler.update();
    return cancelStep(`a gradient overflowed at loss scale ${scale}: step skipped, scale now ${this.scaler.getScale()}`);
  }

  afterStep(ctx: TrainContext): void {
    // One update per real step (an optimizer without gradients recorded no inf check).
    if (this.scaler.foundInf(ctx.stepOptimizer ?? ctx.optimizer) !== null) this.scaler.update();
  }

  stateDict(): CallbackState {
    return { values: this.scaler.stateDict() };
  }

  loadStateDict(state: CallbackState): void {
    if (this.scaler.enabled) this.scaler.loadStateDict(state.values as GradScalerStateDict);
  }
}

export class GradientClipping implements Callback {
  readonly name = 'gradientClipping';
  readonly order = 10;

  /** Clips the joint gradient norm (of order `normType`) to `maxNorm` before each step; ctx.gradNorm reports it. */
  constructor(
    readonly maxNorm: number,
    readonly normType = 2,
  ) {
    if (!(maxNorm > 0)) throw new RangeError(`GradientClipping: maxNorm must be > 0, got ${maxNorm}`);
  }

  beforeStep(ctx: TrainContext): void {
    ctx.setGradNorm(clipGradNorm_(paramsOf(ctx), this.maxNorm, this.normType));
  }
}
