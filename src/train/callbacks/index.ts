// The stock callbacks.
export { Progress, type ProgressOptions, type ProgressStream } from './progress.js';
export { JsonlLogger, CsvLogger, type LogFileOptions } from './logs.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ReduceLROnPlateauCallback } from './plateau.js';
export { ModelCheckpoint, type ModelCheckpointOptions } from './checkpoint.js';
export { NonFiniteGuard, type NonFiniteGuardOptions } from './nan-guard.js';
export { modeFor, monitored, improves, type Mode } from './monitor.js';
