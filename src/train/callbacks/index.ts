// The stock callbacks. History is part of every fit (the Learner adds one when none is given).
export { History, type HistoryOptions } from './history.js';
export { GradientAccumulation, GradScalerCallback, GradientClipping } from './gradients.js';
export { SchedulerCallback, type SchedulerCallbackOptions } from './schedule.js';
export { EMACallback, type EMACallbackOptions } from './ema.js';
export { Progress, type ProgressOptions, type ProgressStream } from './progress.js';
export { JsonlLogger, CsvLogger, type LogFileOptions } from './logs.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ReduceLROnPlateauCallback } from './plateau.js';
export { ModelCheckpoint, type ModelCheckpointOptions } from './checkpoint.js';
export { NonFiniteGuard, type NonFiniteGuardOptions } from './nan-guard.js';
export type { Mode } from './monitor.js';
export { DataParallelCallback, DataParallelLoss, dataParallelCallbacks, sumAcrossRanks } from './data-parallel.js';
