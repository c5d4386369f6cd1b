// The training loop as an explicit list of events, and what a callback sees at each of them.
//
// A callback is an object with any of the event methods below. Each gets the one mutable
// context of the run (the trainer updates it in place, so reading it costs nothing) and may
// return a cancel signal instead of throwing — fastai's CancelBatchException and friends, as
// typed values:
//   cancelBatch  the rest of this batch is skipped: no backward or optimizer step (and so no
//                scheduler step and no EMA update); the gradients accumulated so far are dropped;
//                afterBatch still runs.
//   cancelEpoch  the epoch's training loop ends here; validation and afterEpoch still run.
//   cancelFit    the run ends: no further batch, validation or epoch; afterFit still runs.
// Every callback of an event runs even when an earlier one cancels (a checkpoint can still be
// written in the afterEpoch where early stopping stops the fit); the strongest signal wins.
// Callbacks may be async; the trainer awaits only those that return a promise.
import type { Batch } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Timings } from './timings.js';

export const EVENTS = [
  'beforeFit', 'beforeEpoch', 'beforeBatch', 'afterForward', 'afterLoss', 'afterBackward', 'afterStep', 'afterBatch',
  'beforeValidate', 'afterValidate', 'afterEpoch', 'afterFit',
] as const;
export type EventName = (typeof EVENTS)[number];

export type CancelScope = 'batch' | 'epoch' | 'fit';

/** A typed cancel signal, returned (not thrown) by a callback. */
export interface Cancel {
  readonly cancel: CancelScope;
  /** Why, for logs and FitResult.stopped (e.g. `loss is NaN at epoch 2, batch 5 (step 17)`). */
  readonly reason?: string;
}

export const cancelBatch = (reason?: string): Cancel => ({ cancel: 'batch', ...(reason === undefined ? {} : { reason }) });
export const cancelEpoch = (reason?: string): Cancel => ({ cancel: 'epoch', ...(reason === undefined ? {} : { reason }) });
export const cancelFit = (reason?: string): Cancel => ({ cancel: 'fit', ...(reason === undefined ? {} : { reason }) });

const SEVERITY: Record<CancelScope, number> = { batch: 1, epoch: 2, fit: 3 };
/** The stronger of two signals (fit > epoch > batch). */
export function stronger(a: Cancel | undefined, b: Cancel | undefined): Cancel | undefined {
  if (!a) return b;
  if (!b) return a;
  return SEVERITY[b.cancel] > SEVERITY[a.cancel] ? b : a;
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
  /** Callbacks run in ascending order (default 0); ties keep the given order. Checkpointing runs last (100). */
  readonly order?: number;
  /** Where this callback keeps `last` checkpoint generations: fit({ resume: 'auto' }) looks there. */
  readonly checkpointDir?: string;
  beforeFit?(ctx: TrainContext): CallbackResult;
  beforeEpoch?(ctx: TrainContext): CallbackResult;
  beforeBatch?(ctx: TrainContext): CallbackResult;
  afterForward?(ctx: TrainContext): CallbackResult;
  afterLoss?(ctx: TrainContext): CallbackResult;
  afterBackward?(ctx: TrainContext): CallbackResult;
  afterStep?(ctx: TrainContext): CallbackResult;
  afterBatch?(ctx: TrainContext): CallbackResult;
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

/** Where the run is. One object per fit(), updated in place. */
export interface TrainContext {
  readonly model: Module;
  readonly optimizer: Optimizer;
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
  /** Batches trained in the whole run, this one included once it is done. */
  iteration: number;
  /** Optimizer steps taken in the whole run (with accumulation: one per group of batches). */
  step: number;
  /** The current batch (owned by the trainer: disposed after the step). */
  batchData: Batch | undefined;
  /** Samples in the current batch. */
  batchSize: number;
  /** The model's output for the current batch (after afterForward). */
  output: Tensor | undefined;
  /** The loss tensor of the current batch, unscaled (after afterLoss). */
  loss: Tensor | undefined;
  /** The loss as a number; reading it synchronizes with the device once per batch, so only callbacks that need it pay. */
  readonly lossValue: number;
  /** Batches whose gradients await the next optimizer step (gradient accumulation); checkpoints need 0. */
  pendingBatches: number;
  /** Whether the optimizer stepped in this batch (false while accumulating, when cancelled or when the GradScaler skipped). */
  stepped: boolean;
  /** The joint gradient norm before clipping, when clipGradNorm is set (read lazily). */
  readonly gradNorm: number | undefined;
  /** Each parameter group's current lr. */
  readonly lrs: number[];
  /** Values of the last completed epoch: `train_loss`, `train_<metric>`, `val_loss`, `val_<metric>`, `lr`, `epoch_time`. */
  logs: Record<string, number>;
  /** Timings of the last batch and running totals. */
  readonly timings: Timings;
  /** Whether this run continues a checkpoint. */
  readonly resumed: boolean;
  /** Scratch space shared by callbacks. */
  readonly state: Record<string, unknown>;
  /** Why the fit stopped early, once it has. */
  stopped: { reason: string; epoch: number; batch: number } | undefined;
  /**
   * The checkpoint of the run as it stands now (for checkpointing callbacks; see checkpoint.ts).
   * Exact for resume at afterStep, afterBatch (with pendingBatches 0), afterEpoch and afterFit.
   * Call release() on it once written.
   */
  checkpoint(): import('./checkpoint.js').CheckpointSnapshot;
}
