// The trainer core: one fit() as an event skeleton. Everything a run may or may not do —
// accumulation, loss scaling, clipping, schedules, EMA, history, checkpoints, logs — is a
// callback (callbacks/), and the work of a batch is the training step (step.ts), so this file
// only walks the loop and keeps the position:
//
//   beforeFit
//   per epoch:  beforeEpoch
//               per batch:  beforeBatch → the step (afterForward … afterStep) → afterBatch
//               [held gradients stepped] → afterTrain
//               [beforeValidate → validation → afterValidate] → afterEpoch
//   afterFit    (or onError)
//
// The batch runs in a memory scope and its tensors are disposed after it: users of fit() never
// dispose anything, and the live tensor count stays flat across epochs. A callback that keeps a
// tensor past its event must persist() it (and dispose it later).
//
// Resume: fit({ resume }) loads a checkpoint (resume.ts) and continues in the same epoch after the
// batches already trained (BatchSource.epoch's skipBatches); with a deterministic source the run
// ends bit-identical to one never interrupted.
import { disposeBatch, type Batch, type BatchSource } from '../data/types.js';
import { scope } from '../tensor/memory.js';
import { manualSeed } from '../tensor/random.js';
import type { History } from './callbacks/history.js';
import { fingerprintOf, type CheckpointSnapshot, type Fingerprint } from './checkpoint.js';
import { Context, Dispatcher, settle } from './context.js';
import { stronger, type Callback, type Cancel, type EventName } from './events.js';
import { onDevice } from './inference.js';
import type { Learner } from './learner.js';
import type { FitOptions, FitResult } from './options.js';
import { captureSnapshot, resumeRun, type RunParts } from './resume.js';
import { StepRunner, type TrainStep } from './step.js';
import { Timings } from './timings.js';

/** The source's seed when it exposes one (BatchSource does not promise a `seed`; loaders have one). */
function loaderSeed(source: BatchSource): { loaderSeed?: number } {
  const seed = (source as { seed?: unknown }).seed;
  return typeof seed === 'number' ? { loaderSeed: seed } : {};
}

/** The state of one fit() call. */
export class FitRun {
  readonly callbacks: Dispatcher;
  readonly parts: RunParts;
  readonly timings = new Timings();
  readonly fingerprint: Fingerprint | undefined;
  readonly ctx: Context;
  readonly runner: StepRunner;
  /** Position: the epoch in progress and its batches done. */
  epoch = 0;
  batchesDone = 0;
  completed = false;
  resumedFrom: string | undefined;

  constructor(
    readonly learner: Learner,
    readonly o: FitOptions,
    step: TrainStep,
    callbacks: readonly Callback[],
    readonly history: History,
    warn: (message: string) => void,
  ) {
    if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, got ${o.epochs}`);
    const optimizer = Object.values(step.optimizers)[0];
    if (!optimizer) throw new Error('fit: the training step has no optimizer');
    this.callbacks = new Dispatcher(callbacks);
    this.fingerprint = o.fingerprint === undefined ? undefined : fingerprintOf(o.fingerprint);
    const device = learner.device;
    this.parts = { model: learner.model, optimizers: step.optimizers, callbacks: this.callbacks.callbacks, rngDevices: device === 'cpu' ? ['cpu'] : ['cpu', device] };
    const resumed = o.resume === undefined ? undefined : resumeRun({ resume: o.resume, fingerprint: this.fingerprint, force: o.force ?? false, warn }, this.parts);
    this.ctx = new Context({
      learner, optimizer, val: o.val, epochs: o.epochs, batchesPerEpoch: o.train.batchesPerEpoch, metricList: learner.metrics,
      timings: this.timings, resumed: resumed !== undefined, snapshot: () => this.snapshot(),
    });
    this.runner = new StepRunner(this.ctx, step, (e) => this.emit(e), device, learner.precision, this.timings);
    if (!resumed) return;
    const m = resumed.meta;
    Object.assign(this, { epoch: m.epoch, batchesDone: m.batchesDone, completed: m.completed, resumedFrom: resumed.file });
    Object.assign(this.ctx, { epoch: m.epoch, iteration: m.iteration, step: m.step, logs: { ...m.logs }, stopped: m.stopped });
  }

  async run(): Promise<FitResult> {
    const { o, ctx } = this;
    if (!ctx.resumed) manualSeed(o.seed);
    this.learner.model.train();
    try {
      let signal = await this.callbacks.emit('beforeFit', ctx);
      while (!this.completed && this.epoch < o.epochs && signal?.cancel !== 'fit') signal = await this.runEpoch();
      if (signal?.cancel === 'fit') this.stop(signal);
      // Stopped inside an accumulation group: those gradients will never make a step.
      if (ctx.pendingBatches > 0) this.runner.dropGradients();
      if (ctx.step === 0 && o.epochs > 0 && !ctx.stopped) throw new Error(this.noStepMessage());
      this.completed = true;
      await this.callbacks.emit('afterFit', ctx);
    } catch (e) {
      await this.callbacks.error(ctx, e);
      throw e;
    }
    return {
      history: this.history.rows, epochsCompleted: this.epoch, iteration: ctx.iteration, step: ctx.step,
      ...(ctx.stopped ? { stopped: ctx.stopped } : {}), ...(this.resumedFrom ? { resumedFrom: this.resumedFrom } : {}),
      timings: this.timings.summary(),
    };
  }

  noStepMessage(): string {
    const { ctx, o } = this;
    const why =
      ctx.iteration > 0
        ? `${ctx.iteration} batches ran but none reached an optimizer step (each was cancelled, or its step cancelled or deferred)`
        : `the training source gave no batch${o.train.batchesPerEpoch === 0 ? ' (0 batches per epoch: a data set smaller than one batch, with the last partial batch dropped, gives none)' : ''}; lower the batch size or keep the last partial batch`;
    return `fit: no optimizer step was taken in ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}, so nothing was trained: ${why}`;
  }

  snapshot(): CheckpointSnapshot {
    const { ctx } = this;
    if (this.runner.active) throw new Error('cannot checkpoint inside a training step (its batch is half done): checkpoint at beforeBatch, afterBatch or afterEpoch');
    if (ctx.pendingBatches > 0) throw new Error(`cannot checkpoint inside a gradient-accumulation group (${ctx.pendingBatches} batches accumulated): checkpoint at a step`);
    return captureSnapshot(this.parts, {
      epoch: this.epoch, batchesDone: this.batchesDone, iteration: ctx.iteration, step: ctx.step, seed: this.o.seed, ...loaderSeed(this.o.train),
      completed: this.completed, ...(ctx.stopped ? { stopped: ctx.stopped } : {}), logs: ctx.logs, ...(this.fingerprint ? { fingerprint: this.fingerprint } : {}),
    });
  }

  stop(signal: Cancel): void {
    const { ctx } = this;
    ctx.stopped ??= { reason: signal.reason ?? 'cancelled by a callback', epoch: ctx.epoch, batch: ctx.batch, step: ctx.step, failed: signal.failed ?? false };
  }

  /** An event inside a batch, its callbacks' time counted in the step-time breakdown. */
  emit(event: EventName): Cancel | undefined | Promise<Cancel | undefined> {
    const t = performance.now();
    return settle(this.callbacks.emit(event, this.ctx), (signal) => {
      this.timings.add('callbacks', performance.now() - t);
      return signal;
    });
  }

  /** One epoch: training, validation, afterEpoch. Advances `epoch` once the epoch is complete. */
  async runEpoch(): Promise<Cancel | undefined> {
    const { o, ctx } = this;
    ctx.epoch = this.epoch;
    ctx.phase = 'train';
    ctx.batch = this.batchesDone;
    let signal = await this.callbacks.emit('beforeEpoch', ctx);
    if (signal?.cancel === 'fit') return signal;
    if (signal?.cancel !== 'epoch') signal = await this.trainLoop();
    if (signal?.cancel === 'fit') return signal;
    signal = await this.callbacks.emit('afterTrain', ctx);
    if (signal?.cancel === 'fit') return signal;
    if (o.val) {
      const v = await this.validate(o.val);
      if (v?.cancel === 'fit') return v;
    }
    // The position is "start of the next epoch" for checkpoints written in afterEpoch (ctx.epoch still names this one).
    this.epoch += 1;
    this.batchesDone = 0;
    const after = await this.callbacks.emit('afterEpoch', ctx);
    return after?.cancel === 'fit' ? after : undefined;
  }

  async trainLoop(): Promise<Cancel | undefined> {
    const { o, ctx, timings } = this;
    const controller = new AbortController();
    const it = o.train.epoch(this.epoch, { skipBatches: this.batchesDone, signal: controller.signal })[Symbol.asyncIterator]();
    const started = performance.now();
    let signal: Cancel | undefined;
    let exhausted = false;
    try {
      for (;;) {
        timings.startBatch();
        const t0 = performance.now();
        const next = await it.next();
        timings.add('dataWait', performance.now() - t0);
        if (next.done) {
          exhausted = true;
          break;
        }
        const batch = next.value;
        try {
          signal = await this.trainBatch(batch);
        } finally {
          disposeBatch(batch);
          ctx.clearBatch();
        }
        if (signal?.cancel === 'epoch' || signal?.cancel === 'fit') break;
      }
      // Gradients still held at the end of an epoch (an accumulation group cut short) make a step.
      if (ctx.pendingBatches > 0 && signal?.cancel !== 'fit') signal = stronger(signal, await scope(() => this.runner.flush()));
    } finally {
      // Stopped early (a cancel or an error): let the source stop producing.
      if (!exhausted) {
        controller.abort();
        await it.return?.();
      }
      timings.trainWall += performance.now() - started;
      ctx.clearBatch();
    }
    if (signal?.cancel === 'fit') this.stop(signal);
    return signal?.cancel === 'batch' ? undefined : signal;
  }

  trainBatch(batch: Batch): Promise<Cancel | undefined> {
    const { ctx, timings } = this;
    const n = this.o.train.batchesPerEpoch;
    ctx.batchData = batch;
    ctx.batchSize = batch.x.shape[0] ?? 0;
    ctx.stepped = false;
    ctx.lastBatch = n !== undefined && ctx.batch === n - 1;
    return scope(async () => {
      let signal = await this.emit('beforeBatch');
      if (!signal) {
        const b = onDevice(batch, this.learner.device);
        ctx.x = b.x;
        ctx.y = b.y;
        signal = await this.runner.run();
      }
      // Cancelled: drop the gradients held, as if their batches were skipped (after a step there are none).
      if (signal) this.runner.dropGradients();
      this.batchesDone = ctx.batch + 1;
      ctx.iteration += 1;
      signal = stronger(signal, await this.emit('afterBatch'));
      if (signal?.cancel === 'fit') this.stop(signal);
      ctx.batch += 1;
      timings.batches += 1;
      timings.samples += ctx.batchSize;
      return signal;
    });
  }

  async validate(val: BatchSource): Promise<Cancel | undefined> {
    const { ctx } = this;
    const before = await this.callbacks.emit('beforeValidate', ctx);
    if (before?.cancel === 'fit') return before;
    if (!before) {
      ctx.phase = 'validate';
      const r = await this.learner.evaluate(val);
      ctx.logs['val_loss'] = r.loss;
      for (const [k, v] of Object.entries(r.metrics)) ctx.logs[`val_${k}`] = v;
    }
    const after = await this.callbacks.emit('afterValidate', ctx);
    ctx.phase = 'train';
    return after;
  }
}
