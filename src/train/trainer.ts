// The Trainer: fit() runs epochs of batches through an explicit list of events (events.ts) that
// callbacks listen to; evaluate() and predict() run one pass without gradients (evaluate.ts).
//
// One batch, with the events in order:
//   beforeBatch → forward → afterForward → loss → afterLoss → backward → afterBackward
//   → [every `gradAccumulation` batches: unscale (fp16), clip, optimizer step, scaler update,
//      EMA update, per-batch schedule → afterStep] → afterBatch
// The batch runs in a memory scope and its tensors are disposed after it: users of fit() never
// dispose anything, and the live tensor count stays flat across epochs. A callback that keeps a
// tensor past its event must persist() it (and dispose it later).
//
// Resume: fit({ resume }) loads a checkpoint (checkpoint.ts) and continues in the same epoch
// after the batches already trained (BatchSource.epoch's skipBatches); with a deterministic
// source the run ends bit-identical to one never interrupted. Checkpoints are exact when taken
// at afterStep, afterBatch or afterEpoch, outside a gradient-accumulation group.
import { disposeBatch, type Batch, type BatchSource } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import { clipGradNorm_ } from '../optim/clip-grad.js';
import { GradScaler } from '../optim/grad-scaler.js';
import { noGrad } from '../tensor/autograd.js';
import { scalarTensor } from '../tensor/factories.js';
import { persist, scope } from '../tensor/memory.js';
import { manualSeed } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { CheckpointError, fingerprintOf, loadLatest, type CheckpointMeta, type CheckpointSnapshot } from './checkpoint.js';
import { Context, Dispatcher } from './context.js';
import {
  evaluate, predict, callLoss, hardTargets, modelDevice, onDevice, withPrecision,
  type EvaluateOptions, type EvaluateResult, type Model, type PredictOptions, type Predictions,
} from './evaluate.js';
import { stronger, type Cancel } from './events.js';
import type { FitOptions, FitResult, TrainerOptions } from './options.js';
import { captureSnapshot, checkFingerprint, restoreSnapshot, type RunParts } from './resume.js';
import { Timings } from './timings.js';

export type { FitOptions, FitResult, TrainerOptions } from './options.js';

export class Trainer {
  readonly #warn: (message: string) => void;

  constructor(options: TrainerOptions = {}) {
    this.#warn = options.warn ?? ((m) => process.emitWarning(m));
  }

  evaluate(model: Model, source: BatchSource, metrics: readonly Metric[] = [], options: EvaluateOptions = {}): Promise<EvaluateResult> {
    return evaluate(model, source, metrics, options);
  }

  predict(model: Model, source: BatchSource, options: PredictOptions = {}): Promise<Predictions> {
    return predict(model, source, options);
  }

  async fit(o: FitOptions): Promise<FitResult> {
    return new FitRun(o, this.#warn).run();
  }
}

/** The source's seed when it exposes one (BatchSource does not promise a `seed`; loaders have one). */
function loaderSeed(source: BatchSource): { loaderSeed?: number } {
  const seed = (source as { seed?: unknown }).seed;
  return typeof seed === 'number' ? { loaderSeed: seed } : {};
}

/** The state of one fit() call. */
class FitRun {
  readonly device: string;
  readonly accum: number;
  readonly scaler: GradScaler | undefined;
  readonly callbacks: Dispatcher;
  readonly parts: RunParts;
  readonly metrics: readonly Metric[];
  readonly timings = new Timings();
  readonly history: Record<string, number>[] = [];
  readonly fingerprint;
  ctx!: Context;
  /** Position: the epoch in progress and its batches done (the batch counts once its step phase is over). */
  epoch = 0;
  batchesDone = 0;
  completed = false;
  /** Batches whose gradients wait for the next step. */
  pending = 0;
  /** Σ loss·n and Σ n over the epoch's trained batches (the sum stays on the device). */
  lossSum: Tensor | undefined;
  samples = 0;
  resumedFrom: string | undefined;
  resumeMeta: CheckpointMeta | undefined;

  constructor(
    readonly o: FitOptions,
    readonly warn: (message: string) => void,
  ) {
    if (!Number.isInteger(o.epochs) || o.epochs < 0) throw new RangeError(`fit: epochs must be a non-negative integer, got ${o.epochs}`);
    this.accum = o.gradAccumulation ?? 1;
    if (!Number.isInteger(this.accum) || this.accum < 1) throw new RangeError(`fit: gradAccumulation must be a positive integer, got ${this.accum}`);
    if (o.clipGradNorm !== undefined && !(o.clipGradNorm > 0)) throw new RangeError(`fit: clipGradNorm must be > 0, got ${o.clipGradNorm}`);
    if (o.device) o.model.to({ device: o.device });
    this.device = o.device ?? modelDevice(o.model);
    if (o.mixedPrecision === 'fp16' && !this.device.startsWith('cuda')) throw new Error("fit: mixedPrecision 'fp16' needs a CUDA device; on CPU use 'bf16'");
    this.scaler = o.gradScaler ?? (o.mixedPrecision === 'fp16' ? new GradScaler() : undefined);
    this.callbacks = new Dispatcher(o.callbacks ?? []);
    this.metrics = o.metrics ?? [];
    this.fingerprint = o.fingerprint === undefined ? undefined : fingerprintOf(o.fingerprint);
    this.parts = {
      model: o.model, optimizer: o.optimizer, scheduler: o.scheduler, scaler: this.scaler, ema: o.ema, callbacks: this.callbacks.callbacks,
      rngDevices: this.device === 'cpu' ? ['cpu'] : ['cpu', this.device],
    };
  }

  async run(): Promise<FitResult> {
    const o = this.o;
    const resumed = this.resume();
    if (!resumed) manualSeed(o.seed);
    this.ctx = new Context(o.model, o.optimizer, o.epochs, o.train.batchesPerEpoch, this.metrics, this.timings, resumed, () => this.snapshot());
    this.applyPosition();
    this.lossSum = persist(scalarTensor(this.resumeMeta?.epochLoss.sum ?? 0, { dtype: 'float64', device: this.device }));
    this.samples = this.resumeMeta?.epochLoss.samples ?? 0;
    o.model.train();
    try {
      let signal = await this.callbacks.emit('beforeFit', this.ctx);
      while (!this.completed && this.epoch < o.epochs && signal?.cancel !== 'fit') signal = await this.runEpoch();
      if (signal?.cancel === 'fit') this.stop(signal);
      if (this.pending > 0) {
        // Stopped inside an accumulation group: those gradients will never make a step.
        o.optimizer.zeroGrad();
        this.pending = 0;
        this.ctx.pendingBatches = 0;
      }
      this.completed = true;
      await this.callbacks.emit('afterFit', this.ctx);
    } catch (e) {
      await this.callbacks.error(this.ctx, e);
      throw e;
    } finally {
      this.lossSum.dispose();
    }
    return {
      history: this.history, epochsCompleted: this.epoch, iteration: this.ctx.iteration, step: this.ctx.step,
      ...(this.ctx.stopped ? { stopped: this.ctx.stopped } : {}), ...(this.resumedFrom ? { resumedFrom: this.resumedFrom } : {}),
      timings: this.timings.summary(),
    };
  }

  /** Loads the checkpoint named by `resume`, if any; returns whether the run continues one. */
  resume(): boolean {
    const o = this.o;
    if (o.resume === undefined) return false;
    const where = o.resume === 'auto' ? this.callbacks.callbacks.find((c) => c.checkpointDir)?.checkpointDir : o.resume;
    if (where === undefined) throw new Error("fit: resume 'auto' needs a checkpointing callback (its directory is where to look)");
    const found = loadLatest(where, this.warn);
    if (!found) {
      if (o.resume === 'auto') return false;
      throw new CheckpointError(where, 'no checkpoint found to resume from');
    }
    const { snapshot, file } = found;
    try {
      checkFingerprint(file, snapshot.meta.fingerprint, this.fingerprint, o.force ?? false);
      restoreSnapshot(file, snapshot, this.parts);
    } finally {
      for (const t of snapshot.tensors.values()) t.dispose();
    }
    const m = snapshot.meta;
    this.resumeMeta = m;
    this.epoch = m.epoch;
    this.batchesDone = m.batchesDone;
    this.completed = m.completed;
    this.resumedFrom = file;
    return true;
  }

  applyPosition(): void {
    const m = this.resumeMeta;
    this.ctx.epoch = this.epoch;
    if (!m) return;
    this.ctx.iteration = m.iteration;
    this.ctx.step = m.step;
    this.ctx.logs = { ...m.logs };
    if (m.stopped) this.ctx.stopped = m.stopped;
  }

  snapshot(): CheckpointSnapshot {
    if (this.pending > 0) throw new Error(`cannot checkpoint inside a gradient-accumulation group (${this.pending} of ${this.accum} batches accumulated): checkpoint at a step`);
    const snap = captureSnapshot(this.parts, {
      epoch: this.epoch, batchesDone: this.batchesDone, iteration: this.ctx.iteration, step: this.ctx.step, seed: this.o.seed,
      ...loaderSeed(this.o.train),
      completed: this.completed, ...(this.ctx.stopped ? { stopped: this.ctx.stopped } : {}),
      epochLoss: { sum: Number(this.lossSum?.item() ?? 0), samples: this.samples }, logs: this.ctx.logs,
      ...(this.fingerprint ? { fingerprint: this.fingerprint } : {}),
    });
    return snap;
  }

  stop(signal: Cancel): void {
    this.ctx.stopped ??= { reason: signal.reason ?? 'cancelled by a callback', epoch: this.ctx.epoch, batch: this.ctx.batch };
  }

  /** One epoch: training, validation, the epoch's schedule step, afterEpoch. Advances `epoch` once the epoch is complete. */
  async runEpoch(): Promise<Cancel | undefined> {
    const { o, ctx } = this;
    ctx.epoch = this.epoch;
    ctx.phase = 'train';
    ctx.batch = this.batchesDone;
    for (const m of this.metrics) m.reset();
    const fromCheckpoint = this.batchesDone > 0;
    if (!fromCheckpoint) {
      noGrad(() => this.lossSum?.zero_());
      this.samples = 0;
    }
    const started = performance.now();
    let signal = await this.callbacks.emit('beforeEpoch', ctx);
    if (signal?.cancel === 'fit') return signal;
    if (signal?.cancel !== 'epoch') signal = await this.trainLoop();
    if (signal?.cancel === 'fit') return signal;
    this.finishEpochLogs(started);
    if (o.val) {
      const v = await this.validate();
      if (v?.cancel === 'fit') return v;
    }
    if (o.scheduler && (o.schedulerStep ?? 'epoch') === 'epoch') o.scheduler.step();
    // The position is "start of the next epoch" for checkpoints written in afterEpoch (ctx.epoch still names this one).
    this.epoch += 1;
    this.batchesDone = 0;
    this.history.push({ ...ctx.logs });
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
      // A partial accumulation group at the end of an epoch of unknown length still steps.
      if (this.pending > 0 && signal?.cancel !== 'fit') scope(() => this.optimizerStep());
    } finally {
      // Stopped early (a cancel or an error): let the source stop producing.
      if (!exhausted) {
        controller.abort();
        await it.return?.();
      }
      timings.trainWall += performance.now() - started;
    }
    return signal?.cancel === 'batch' ? undefined : signal;
  }

  trainBatch(batch: Batch): Promise<Cancel | undefined> {
    const { o, ctx, timings } = this;
    // Awaits only what a callback made asynchronous: a batch whose callbacks are all synchronous costs no microtasks.
    const emit = (e: Parameters<Dispatcher['emit']>[0]): Cancel | undefined | Promise<Cancel | undefined> => {
      const t = performance.now();
      const s = this.callbacks.emit(e, ctx);
      if (!(s instanceof Promise)) {
        timings.add('callbacks', performance.now() - t);
        return s;
      }
      return s.then((v) => {
        timings.add('callbacks', performance.now() - t);
        return v;
      });
    };
    ctx.batchData = batch;
    ctx.batchSize = batch.x.shape[0] ?? 0;
    ctx.stepped = false;
    return scope(async () => {
      let r = emit('beforeBatch');
      let signal = r instanceof Promise ? await r : r;
      if (!signal) {
        const t0 = performance.now();
        const { x, y } = onDevice(batch, this.device);
        const precision = o.mixedPrecision ?? false;
        ctx.output = withPrecision(precision, this.device, () => o.model.forward(x));
        timings.add('forward', performance.now() - t0);
        r = emit('afterForward');
        signal = r instanceof Promise ? await r : r;
        if (!signal) {
          const t1 = performance.now();
          const output = ctx.output;
          const loss = withPrecision(precision, this.device, () => callLoss(o.loss, output, y));
          ctx.loss = loss;
          noGrad(() => this.lossSum?.add_(loss, { alpha: ctx.batchSize })); // float64 += float32·n, on the device
          this.samples += ctx.batchSize;
          if (this.metrics.length && hardTargets(y)) for (const m of this.metrics) m.update(output, y);
          timings.add('forward', performance.now() - t1);
          r = emit('afterLoss');
          signal = r instanceof Promise ? await r : r;
        }
        if (!signal) {
          const t2 = performance.now();
          const scaled = this.accum > 1 ? ctx.loss!.div(this.accum) : ctx.loss!;
          (this.scaler ? this.scaler.scale(scaled) : scaled).backward();
          this.pending += 1;
          timings.add('backward', performance.now() - t2);
          r = emit('afterBackward');
          signal = r instanceof Promise ? await r : r;
        }
      }
      if (signal) {
        // Cancelled before the step: drop this group's gradients, as if its batches were skipped.
        o.optimizer.zeroGrad();
        this.pending = 0;
      } else if (this.pending === this.accum || this.lastOfEpoch()) {
        this.optimizerStep();
      }
      ctx.pendingBatches = this.pending;
      this.batchesDone = ctx.batch + 1;
      ctx.iteration += 1;
      if (ctx.stepped) {
        r = emit('afterStep');
        signal = r instanceof Promise ? await r : r;
      }
      r = emit('afterBatch');
      signal = stronger(signal, r instanceof Promise ? await r : r);
      if (signal?.cancel === 'fit') this.stop(signal);
      ctx.batch += 1;
      timings.batches += 1;
      timings.samples += ctx.batchSize;
      return signal;
    });
  }

  lastOfEpoch(): boolean {
    const n = this.o.train.batchesPerEpoch;
    return n !== undefined && this.ctx.batch === n - 1;
  }

  /** Unscale, clip, step, update the scaler, EMA and per-batch schedule; sets ctx.stepped. */
  optimizerStep(): void {
    const { o, ctx } = this;
    const t = performance.now();
    if (this.pending < this.accum) {
      // A partial group: the losses were divided by accum, the true mean divides by pending.
      const factor = this.accum / this.pending;
      noGrad(() => {
        for (const p of o.model.parameters()) p.grad?.mul_(factor);
      });
    }
    this.scaler?.unscale_(o.optimizer);
    if (o.clipGradNorm !== undefined) ctx.setGradNorm(clipGradNorm_(o.optimizer.paramGroups.flatMap((g) => g.params), o.clipGradNorm));
    const stepped = this.scaler ? this.scaler.step(o.optimizer) : (o.optimizer.step(), true);
    this.scaler?.update();
    o.optimizer.zeroGrad();
    this.pending = 0;
    ctx.stepped = stepped;
    if (stepped) {
      ctx.step += 1;
      o.ema?.update(o.model);
      // A step the scaler skipped must not advance the schedule (PyTorch's warning case).
      if (o.scheduler && o.schedulerStep === 'batch') o.scheduler.step();
    }
    this.timings.add('optimizer', performance.now() - t);
  }

  finishEpochLogs(started: number): void {
    const { ctx } = this;
    const logs: Record<string, number> = {};
    logs['epoch'] = ctx.epoch;
    logs['step'] = ctx.step;
    logs['train_loss'] = this.samples ? Number(this.lossSum?.item()) / this.samples : NaN;
    for (const m of this.metrics) logs[`train_${m.name}`] = m.compute();
    ctx.lrs.forEach((lr, i) => (logs[i === 0 ? 'lr' : `lr_${i}`] = lr));
    logs['epoch_time'] = (performance.now() - started) / 1000;
    ctx.logs = logs;
  }

  async validate(): Promise<Cancel | undefined> {
    const { o, ctx } = this;
    const before = await this.callbacks.emit('beforeValidate', ctx);
    if (before?.cancel === 'fit') return before;
    if (o.val && !before) {
      ctx.phase = 'validate';
      const opts = { loss: o.loss, device: this.device, mixedPrecision: o.mixedPrecision ?? false, epoch: 0 };
      const r = await evaluate(o.model, o.val, this.metrics, opts);
      ctx.logs['val_loss'] = r.loss;
      for (const [k, v] of Object.entries(r.metrics)) ctx.logs[`val_${k}`] = v;
      if (o.ema && o.validateEma) {
        const ema = o.ema;
        // Swap the EMA weights in, evaluate, swap the trained weights back.
        const saved = noGrad(() => scope(() => new Map([...o.model.stateDict()].map(([k, v]) => [k, persist(v.clone())]))));
        try {
          ema.copyTo(o.model);
          const e = await evaluate(o.model, o.val, this.metrics, opts);
          ctx.logs['ema_val_loss'] = e.loss;
          for (const [k, v] of Object.entries(e.metrics)) ctx.logs[`ema_val_${k}`] = v;
        } finally {
          o.model.loadStateDict(saved);
          for (const t of saved.values()) t.dispose();
        }
      }
      ctx.phase = 'train';
    }
    return this.callbacks.emit('afterValidate', ctx);
  }
}
