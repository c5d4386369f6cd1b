// What a Learner is made of, and what fit() takes and returns.
import type { BatchSource } from '../data/types.js';
import type { SumAcross } from '../metrics/reduce.js';
import type { Metric } from '../metrics/types.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Callback, Stopped } from './events.js';
import type { LossFn, MixedPrecision, Model } from './inference.js';
import type { TrainStep } from './step.js';
import type { Timings } from './timings.js';

export interface LearnerOptions {
  model: Model;
  /** The training objective. */
  loss: LossFn;
  /** Computed over each epoch's training batches (`train_<name>`), over validation (`val_<name>`) and by evaluate(). */
  metrics?: readonly Metric[];
  /** The loss validation and evaluate() report (default: `loss`); e.g. plain cross-entropy when training with label smoothing. */
  evalLoss?: LossFn;
  /** Moves the model there; batches are moved there (default: the model's device). */
  device?: string;
  /** Autocast for forward and loss: 'bf16' (CPU or CUDA), 'fp16' (CUDA; fit() adds a GradScalerCallback unless given one). */
  precision?: MixedPrecision;
  /** Warnings (a corrupted checkpoint skipped); default process.emitWarning. */
  warn?: (message: string) => void;
  /**
   * For data-parallel training: adds evaluation sums across the ranks, each of which evaluates its
   * own shard of the set, so evaluate() and validation give the whole set's loss and metrics on
   * every rank (see EvaluateOptions.reduce). Default: this process alone.
   */
  reduce?: SumAcross;
}

export interface FitOptions {
  train: BatchSource;
  val?: BatchSource;
  epochs: number;
  /** The optimizer of the standard supervised step (forward, loss, backward, step). */
  optimizer?: Optimizer;
  /** Instead of `optimizer`: a training step of your own (step.ts), e.g. a GAN's alternating updates. */
  step?: TrainStep;
  /**
   * Events' listeners: gradient accumulation, clipping, schedules, EMA, checkpoints, logs… (see
   * callbacks/). A History is added when none is given; so is a GradScalerCallback for 'fp16'.
   */
  callbacks?: readonly Callback[];
  /** Seeds torch's generator at the start of a fresh run (a resumed run restores the saved state instead). */
  seed: number;
  /** Continue from a checkpoint: a file, a directory of `last` generations, or 'auto' (the checkpoint callback's directory, if it holds one). */
  resume?: 'auto' | string;
  /** A description of config and data; saved hashed in checkpoints and compared on resume. */
  fingerprint?: unknown;
  /** Resume even when the fingerprint differs. */
  force?: boolean;
}

export interface FitResult {
  /** One row per epoch of the run (the values of ctx.logs), including epochs before a resume. */
  history: Record<string, number>[];
  /** Where the run ended: epochs completed, batches trained, optimizer steps. */
  epochsCompleted: number;
  iteration: number;
  step: number;
  stopped?: Stopped;
  /** The checkpoint this run resumed from, if any. */
  resumedFrom?: string;
  timings: ReturnType<Timings['summary']>;
}
