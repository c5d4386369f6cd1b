// train: the Trainer, its events and callbacks, checkpoints for exact resume, the lr finder.
export { Trainer } from './trainer.js';
export type { FitOptions, FitResult, TrainerOptions } from './options.js';
export {
  evaluate, predict, type Model, type LossFn, type MixedPrecision, type EvaluateOptions, type EvaluateResult, type PredictOptions, type Predictions,
} from './evaluate.js';
export {
  EVENTS, cancelBatch, cancelEpoch, cancelFit, type EventName, type Callback, type CallbackResult, type CallbackState, type Cancel, type CancelScope, type TrainContext,
} from './events.js';
export { Timings, PHASES, type Phase, type PhaseTimes } from './timings.js';
export {
  readCheckpoint, writeCheckpoint, saveGeneration, listGenerations, loadLatest, fingerprintOf, diffFingerprints, CheckpointError,
  CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointMeta, type CheckpointSnapshot, type Fingerprint,
} from './checkpoint.js';
export { lrFind, renderLrPlot, steepest, valley, type LrFindOptions, type LrFindResult } from './lr-find.js';
export * as callbacks from './callbacks/index.js';
