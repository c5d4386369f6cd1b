// The Learner (fastai's): a model with what training and inference need to use it — the loss,
// the metrics, the device and the mixed precision — so fit, evaluate and predict stop repeating
// them.
//
//   const learner = new Learner({ model, loss: nn.functional.crossEntropy, metrics: [accuracy] });
//   await learner.fit({ train, val, epochs: 10, optimizer, seed: 0, callbacks: [new SchedulerCallback(schedule)] });
//   const { loss, metrics } = await learner.evaluate(test);
//   const { top } = await learner.predict(photos, { topK: 3 });
//
// fit() runs the trainer (trainer.ts) with the standard supervised step, or with a step of your
// own (step.ts); evaluate() and predict() are one inference pass each (inference.ts).
import type { BatchSource } from '../data/types.js';
import type { SumAcross } from '../metrics/reduce.js';
import type { Metric } from '../metrics/types.js';
import { GradScaler } from '../optim/grad-scaler.js';
import { GradScalerCallback } from './callbacks/gradients.js';
import { History } from './callbacks/history.js';
import { evaluate, predict, type EvaluateResult, type Predictions } from './evaluate.js';
import type { Callback } from './events.js';
import { modelDevice, type LossFn, type MixedPrecision, type Model } from './inference.js';
import type { FitOptions, FitResult, LearnerOptions } from './options.js';
import { SupervisedStep } from './step.js';
import { FitRun } from './trainer.js';

export class Learner {
  readonly model: Model;
  readonly loss: LossFn;
  readonly evalLoss: LossFn;
  readonly metrics: readonly Metric[];
  readonly device: string;
  readonly precision: MixedPrecision;
  readonly reduce: SumAcross | undefined;
  readonly #warn: (message: string) => void;

  constructor(options: LearnerOptions) {
    this.model = options.model;
    this.loss = options.loss;
    this.evalLoss = options.evalLoss ?? options.loss;
    this.metrics = options.metrics ?? [];
    if (options.device) this.model.to({ device: options.device });
    this.device = options.device ?? modelDevice(this.model);
    this.precision = options.precision ?? false;
    if (this.precision === 'fp16' && !this.device.startsWith('cuda')) throw new Error("Learner: mixed precision 'fp16' needs a CUDA device; on CPU use 'bf16'");
    this.reduce = options.reduce;
    this.#warn = options.warn ?? ((m) => process.emitWarning(m));
  }

  /** Trains for `epochs` (the rest of them, when resuming); see FitOptions. */
  async fit(options: FitOptions): Promise<FitResult> {
    if ((options.optimizer === undefined) === (options.step === undefined))
      throw new Error('fit: give an optimizer (for the standard supervised step) or a step of your own, not both and not neither');
    const step = options.step ?? new SupervisedStep(this.model, this.loss, options.optimizer as NonNullable<FitOptions['optimizer']>);
    const given = options.callbacks ?? [];
    const builtIn: Callback[] = [];
    const history = given.find((c): c is History => c instanceof History) ?? new History();
    if (!given.includes(history)) builtIn.push(history);
    if (this.precision === 'fp16' && !given.some((c) => c instanceof GradScalerCallback)) builtIn.push(new GradScalerCallback(new GradScaler()));
    return new FitRun(this, options, step, [...builtIn, ...given], history, this.#warn).run();
  }

  /** Loss (evalLoss) and metrics over one pass of `source`, in eval mode; the model's mode is restored. With `reduce`, over every rank's shard. */
  evaluate(source: BatchSource, options: { epoch?: number } = {}): Promise<EvaluateResult> {
    return evaluate(this.model, source, this.metrics, {
      loss: this.evalLoss, device: this.device, mixedPrecision: this.precision, epoch: options.epoch ?? 0, ...(this.reduce ? { reduce: this.reduce } : {}),
    });
  }

  /** Softmax probabilities and the top-k classes of every sample of one pass of `source`. */
  predict(source: BatchSource, options: { topK?: number } = {}): Promise<Predictions> {
    return predict(this.model, source, { ...options, device: this.device, mixedPrecision: this.precision });
  }
}
