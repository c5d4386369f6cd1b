// train: the Learner, the trainer's events and callbacks, training steps, the one inference pass,
// checkpoints for exact resume, the lr finder.
export { Learner } from './learner.js';
export type { LearnerOptions, FitOptions, FitResult } from './options.js';
export { SupervisedStep, type TrainStep, type StepTools } from './step.js';
export { GanStep, GanHistory, dcganOptimizers, GAN_FIGURES, type GanFigure, type GanOptimizers, type GanStepOptions, type GanHistoryOptions, type GanPoint } from './steps/index.js';
export { inference, inferenceForward, type InferenceOptions, type InferenceHook, type Model, type LossFn, type MixedPrecision } from './inference.js';
export { evaluate, predict, type EvaluateOptions, type EvaluateResult, type PredictOptions, type Predictions } from './evaluate.js';
export {
  EVENTS, cancelStep, deferStep, cancelBatch, cancelEpoch, cancelFit, failFit,
  type EventName, type Callback, type CallbackResult, type CallbackState, type Cancel, type CancelScope, type Stopped, type TrainContext,
} from './events.js';
export type { Timings, Phase, PhaseTimes } from './timings.js';
export { readCheckpoint, writeCheckpoint, CheckpointError, NonFiniteCheckpointError, type CheckpointMeta, type CheckpointSnapshot } from './checkpoint.js';
export { lrFind, type LrFindOptions, type LrFindResult } from './lr-find.js';
export * as callbacks from './callbacks/index.js';
