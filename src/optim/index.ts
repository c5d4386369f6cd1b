// optim: optimizers, learning-rate schedules, gradient clipping, weight averaging, loss scaling.
export {
  Optimizer, type GroupOptions, type ParamGroup, type GroupInput, type ParamsInput, type ParamState, type StateValue, type OptimizerStateDict,
} from './optimizer.js';
export { SGD, sgd, type SGDOptions, type SGDState } from './sgd.js';
export { Adam, AdamW, adam, adamw, type AdamOptions, type AdamState, type AdamBuffers } from './adam.js';
export { RMSprop, rmsprop, type RMSpropOptions, type RMSpropState, type RMSpropBuffers } from './rmsprop.js';
export { Adagrad, adagrad, type AdagradOptions, type AdagradState } from './adagrad.js';
export { Lion, lion, type LionOptions, type LionState } from './lion.js';
export { clipGradNorm_, clipGradValue_, type ClipGradNormOptions } from './clip-grad.js';
export {
  LRScheduler, type Scheduler, type SchedulableOptimizer, type SchedulableGroup, type SchedulerStateDict, type SchedulerStateValue,
} from './schedulers/base.js';
export { StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR, PolynomialLR } from './schedulers/basic.js';
export { CosineAnnealingLR, CosineAnnealingWarmRestarts } from './schedulers/cosine.js';
export { OneCycleLR, type OneCycleOptions } from './schedulers/one-cycle.js';
export { SequentialLR, withWarmup, type WarmupOptions } from './schedulers/sequential.js';
export { ReduceLROnPlateau, type PlateauOptions } from './schedulers/plateau.js';
export { ModelEMA, type EMAOptions, type EMAStateDict } from './ema.js';
export { GradScaler, type GradScalerOptions, type GradScalerStateDict, type ScalableOptimizer } from './grad-scaler.js';
