// What fit() takes and returns.
import type { BatchSource } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { ModelEMA } from '../optim/ema.js';
import type { GradScaler } from '../optim/grad-scaler.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Scheduler } from '../optim/schedulers/base.js';
import type { LossFn, MixedPrecision, Model } from './evaluate.js';
import type { Callback } from './events.js';
import type { Timings } from './timings.js';

export interface FitOptions {
  model: Model;
  train: BatchSource;
  val?: BatchSource;
  epochs: number;
  optimizer: Optimizer;
  loss: LossFn;
  /** Computed over each epoch's training batches (`train_<name>`) and over validation (`val_<name>`). */
  metrics?: readonly Metric[];
  scheduler?: Scheduler;
  /** When the scheduler steps: after every optimizer step, or after every epoch (default 'epoch'). */
  schedulerStep?: 'batch' | 'epoch';
  callbacks?: readonly Callback[];
  /** Batches whose gradients are summed before one optimizer step (default 1). */
  gradAccumulation?: number;
  /** Clip the joint gradient norm to this value before each step. */
  clipGradNorm?: number;
  /** Autocast for forward and loss: 'bf16' (CPU or CUDA), 'fp16' (CUDA, with a GradScaler). */
  mixedPrecision?: MixedPrecision;
  /** Loss scaling, used whenever given (default: a new GradScaler for 'fp16', none otherwise). */
  gradScaler?: GradScaler;
  /** Updated after every optimizer step. */
  ema?: ModelEMA;
  /** Also validate the EMA weights, logged as `ema_val_loss`, `ema_val_<metric>`. */
  validateEma?: boolean;
  /** Seeds torch's generator at the start of a fresh run (a resumed run restores the saved state instead). */
  seed: number;
  /** Moves the model there and each batch there (default: the model's device). */
  device?: string;
  /** Continue from a checkpoint: a file, a directory of `last` generations, or 'auto' (the checkpoint callback's directory, if it holds one). */
  resume?: 'auto' | string;
  /** A description of config and data; saved hashed in checkpoints and compared on resume. */
  fingerprint?: unknown;
  /** Resume even when the fingerprint differs. */
  force?: boolean;
}

export interface FitResult {
  /** One row per epoch completed in this call (the values of ctx.logs). */
  history: Record<string, number>[];
  /** Where the run ended: epochs completed, batches trained, optimizer steps. */
  epochsCompleted: number;
  iteration: number;
  step: number;
  stopped?: { reason: string; epoch: number; batch: number };
  /** The checkpoint this run resumed from, if any. */
  resumedFrom?: string;
  timings: ReturnType<Timings['summary']>;
}

export interface TrainerOptions {
  /** Warnings (a corrupted checkpoint skipped); default process.emitWarning. */
  warn?: (message: string) => void;
}
