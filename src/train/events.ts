// The training loop as an explicit list of events, and what a callback sees at each of them.
//
// A callback is an object with any of the event methods below. Each gets the one mutable
// context of the run (the trainer updates it in place, so reading it costs nothing) and may
// return a cancel signal instead of throwing — fastai's Cancel*Exception, as typed values:
//   cancelStep   (beforeStep only) this optimizer step is skipped and its gradients are dropped
//                (a GradScaler that found an overflow); no afterStep.
//   deferStep    (beforeStep only) this optimizer step is skipped and the gradients are kept, to
//                add up with the next batch's (gradient accumulation); no afterStep.
//   cancelBatch  the rest of this batch is skipped: no further backward or optimizer step (and so
//                no scheduler step and no EMA update); the gradients accumulated so far are
//                dropped; afterBatch still runs.
//   cancelEpoch  the epoch's training loop ends here; validation and afterEpoch still run.
//   cancelFit    the run ends: no further batch, validation or epoch; afterFit still runs.
//   failFit      cancelFit for a run that failed (it diverged): FitResult.stopped.failed is true,
//                so the caller can exit non-zero.
// Every callback of an event runs even when an earlier one cancels (a checkpoint can still be
// written in the afterEpoch where early stopping stops the fit); the strongest signal wins. The
// exception is beforeStep, whose callbacks prepare a step: once one cancels it, the rest do not run.
// Callbacks may be async; the trainer awaits only those that return a promise.
import type { Batch, BatchSource } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Learner } from './learner.js';
import type { Timings } from './timings.js';

// One batch: beforeBatch → the training step (step.ts: afterForward, afterLoss, beforeBackward,
// afterBackward, beforeStep, afterStep, in the order the step runs them) → afterBatch.
// One epoch: beforeEpoch → batches → afterTrain → [beforeValidate → afterValidate] → afterEpoch.
export const EVENTS = [
  'beforeFit', 'beforeEpoch', 'beforeBatch', 'afterForward', 'afterLoss', 'beforeBackward', 'afterBackward', 'beforeStep', 'afterStep',
  'afterBatch', 'afterTrain', 'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit',
] as const;
export type EventName = (typeof EVENTS)[number];

export type CancelScope = 'step' | 'batch' | 'epoch' | 'fit';

/** A typed cancel signal, returned (not thrown) by a callback. */
export interface Cancel {
  readonly cancel: CancelScope;
  /** Why, for logs and FitResult.stopped (e.g. `loss is NaN at epoch 2, batch 5 (step 17)`). */
  readonly reason?: string;
  /** cancel 'step': keep the gradients for the next step (deferStep) instead of dropping them. */
  readonly keepGradients?: boolean;
  /** cancel 'fit': the run failed (failFit). */
  readonly failed?: boolean;
}

const withReason = (reason: string | undefined) => (reason === undefined ? {} : { reason });
export const cancelStep = (reason?: string): Cancel => ({ cancel: 'step', ...withReason(reason) });
export const deferStep = (reason?: string): Cancel => ({ cancel: 'step', keepGradients: true, ...withReason(reason) });
export const cancelBatch = (reason?: string): Cancel => ({ cancel: 'batch', ...withReason(reason) });
export const cancelEpoch = (reason?: string): Cancel => ({ cancel: 'epoch', ...withReason(reason) });
export const cancelFit = (reason?: string): Cancel => ({ cancel: 'fit', ...withReason(reason) });
export const failFit = (reason: string): Cancel => ({ cancel: 'fit', reason, failed: true });

const SEVERITY: Record<CancelScope, number> = { step: 0, batch: 1, epoch: 2, fit: 3 };
/** The stronger of two signals (fit > epoch > batch > step; a failed fit over a plain one). */
export function stronger(a: Cancel | undefined, b: Cancel | undefined): Cancel | undefined {
  if (!a) return b;
  if (!b) return a;
  if (SEVERITY[b.cancel] !== SEVERITY[a.cancel]) return SEVERITY[b.cancel] > SEVERITY[a.cancel] ? b : a;
  return b.failed && !a.failed ? b : a;
}

export type CallbackResult = void | Cancel | Promise<void | Cancel>;

/** JSON-able values plus named tensors: what a callback saves in a checkpoint. */
export interface CallbackState {
  values: unknown;
  /** Tensors (e.g. early stopping's best weights), saved in the checkpoint's safetensors. */
  tensors?: Map<string, Tensor>;
}

export interface Callback {
  /** Unique among the run's callbacks: the key of its state in checkpoints. */
  readonly name: string;
  /** Callbacks run in ascending order (default 0); ties keep the given order. History runs first (−100), checkpointing last (100). */
  readonly order?: number;
  /** Where this callback keeps `last` checkpoint generations: fit({ resume: 'auto' }) looks there. */
  readonly checkpointDir?: string;
  beforeFit?(ctx: TrainContext): CallbackResult;
  beforeEpoch?(ctx: TrainContext): CallbackResult;
  beforeBatch?(ctx: TrainContext): CallbackResult;
  afterForward?(ctx: TrainContext): CallbackResult;
  afterLoss?(ctx: TrainContext): CallbackResult;
  /** May replace ctx.gradLoss, the tensor backward() runs on (loss scaling). */
  beforeBackward?(ctx: TrainContext): CallbackResult;
  afterBackward?(ctx: TrainContext): CallbackResult;
  /**
   * Between backward and ctx.stepOptimizer.step(): where gradients are prepared (accumulation,
   * unscaling, a distributed all-reduce, clipping) and where a step can be cancelled or deferred.
   */
  beforeStep?(ctx: TrainContext): CallbackResult;
  /** After ctx.stepOptimizer stepped (its gradients are zeroed): schedules, EMA. */
  afterStep?(ctx: TrainContext): CallbackResult;
  afterBatch?(ctx: TrainContext): CallbackResult;
  /** The epoch's training loop has ended (also when cancelled); the training logs are made here. */
  afterTrain?(ctx: TrainContext): CallbackResult;
  beforeValidate?(ctx: TrainContext): CallbackResult;
  afterValidate?(ctx: TrainContext): CallbackResult;
  afterEpoch?(ctx: TrainContext): CallbackResult;
  afterFit?(ctx: TrainContext): CallbackResult;
  /** An exception escaped the loop; called once, then the error propagates out of fit(). */
  onError?(ctx: TrainContext, error: unknown): void | Promise<void>;
  /** State that must survive a resume (counters, best values). Tensors may be the callback's own (they are written, not kept). */
  stateDict?(): CallbackState;
  /** The tensors given are freed after the call: copy what you keep. */
  loadStateDict?(state: CallbackState): void;
}

/** Why and where a fit stopped early. */
export interface Stopped {
  reason: string;
  epoch: number;
  batch: number;
  /** Optimizer steps taken when it stopped. */
  step: number;
  /** A failure (failFit: the run diverged), not a decision such as early stopping. */
  failed: boolean;
}

/** Where the run is. One object per fit(), updated in place. */
export interface TrainContext {
  readonly learner: Learner;
  /** The learner's model. */
  readonly model: Module;
  /** The training step's first optimizer (the only one of the standard step). */
  readonly optimizer: Optimizer;
  /** The validation source of this fit, if any. */
  readonly val: BatchSource | undefined;
  /** Total epochs of the run. */
  readonly epochs: number;
  /** Batches per epoch when the source knows it. */
  readonly batchesPerEpoch: number | undefined;
  readonly metricList: readonly Metric[];
  /** 'train' inside the training loop, 'validate' inside validation. */
  phase: 'train' | 'validate';
  /** The current epoch, from 0. */
  epoch: number;
  /** The batch's index within the epoch, from 0 (counts resumed-past batches too). */
  batch: number;
  /** The epoch's last batch (known from batchesPerEpoch), or the end of an epoch whose held gradients are being stepped. */
  lastBatch: boolean;
  /** Batches trained in the whole run, this one included once it is done. */
  iteration: number;
  /** Batches in which an optimizer stepped, over the whole run (with accumulation: one per group of batches). */
  step: number;
  /** The current batch as the source gave it (owned by the trainer: disposed after the step). */
  batchData: Batch | undefined;
  /** The batch's inputs and targets on the learner's device. */
  x: Tensor | undefined;
  y: Tensor | undefined;
  /** Samples in the current batch. */
  batchSize: number;
  /** The model's output for the current batch (after afterForward). */
  output: Tensor | undefined;
  /** The loss tensor of the current batch, unscaled (after afterLoss). */
  loss: Tensor | undefined;
  /** The loss as a number; reading it synchronizes with the device once per batch, so only callbacks that need it pay. */
  readonly lossValue: number;
  /** What backward() runs on: the loss given to it, or what a beforeBackward callback made of it. */
  gradLoss: Tensor | undefined;
  /** Batches whose gradients await an optimizer step (gradient accumulation), the current one included once its backward ran; checkpoints need 0. */
  pendingBatches: number;
  /** The optimizer about to step (beforeStep) or that just stepped (afterStep). */
  stepOptimizer: Optimizer | undefined;
  /** Whether an optimizer stepped in this batch (false while accumulating, when cancelled or when the GradScaler skipped). */
  stepped: boolean;
  /** The joint gradient norm before clipping, when a GradientClipping callback clipped this step (read lazily). */
  readonly gradNorm: number | undefined;
  /** Records the gradient norm (a 0-dim tensor of the step's scope) for gradNorm. */
  setGradNorm(norm: Tensor | undefined): void;
  /** Each parameter group's current lr (of `optimizer`). */
  readonly lrs: number[];
  /** Values of the last completed epoch: `train_loss`, `train_<metric>`, `val_loss`, `val_<metric>`, `lr`, `epoch_time`, `images_per_second`. */
  logs: Record<string, number>;
  /** Timings of the last batch and running totals. */
  readonly timings: Timings;
  /** Whether this run continues a checkpoint. */
  readonly resumed: boolean;
  /** Scratch space shared by callbacks. */
  readonly state: Record<string, unknown>;
  /** Why the fit stopped early, once it has. */
  stopped: Stopped | undefined;
  /**
   * The checkpoint of the run as it stands now (for checkpointing callbacks; see checkpoint.ts).
   * Exact for resume at beforeBatch, afterBatch (with pendingBatches 0), afterEpoch and afterFit;
   * refused inside a batch's training step. Call release() on it once written.
   */
  checkpoint(): import('./checkpoint.js').CheckpointSnapshot;
}
