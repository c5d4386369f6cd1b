// The one mutable TrainContext of a fit(), and the callback dispatcher. Values that cost a device
// synchronization (the loss as a number, the gradient norm) are read only when a callback asks,
// once per batch.
import type { Batch, BatchSource } from '../data/types.js';
import type { Metric } from '../metrics/types.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Tensor } from '../tensor/tensor.js';
import type { CheckpointSnapshot } from './checkpoint.js';
import { EVENTS, stronger, type Callback, type Cancel, type EventName, type Stopped, type TrainContext } from './events.js';
import type { Learner } from './learner.js';
import type { Timings } from './timings.js';

export interface ContextInit {
  learner: Learner;
  optimizer: Optimizer;
  val: BatchSource | undefined;
  epochs: number;
  batchesPerEpoch: number | undefined;
  metricList: readonly Metric[];
  timings: Timings;
  resumed: boolean;
  snapshot: () => CheckpointSnapshot;
}

export class Context implements TrainContext {
  readonly learner: Learner;
  readonly model: Module;
  readonly optimizer: Optimizer;
  readonly val: BatchSource | undefined;
  readonly epochs: number;
  readonly batchesPerEpoch: number | undefined;
  readonly metricList: readonly Metric[];
  readonly timings: Timings;
  readonly resumed: boolean;
  phase: 'train' | 'validate' = 'train';
  epoch = 0;
  batch = 0;
  lastBatch = false;
  iteration = 0;
  step = 0;
  batchData: Batch | undefined = undefined;
  x: Tensor | undefined = undefined;
  y: Tensor | undefined = undefined;
  batchSize = 0;
  output: Tensor | undefined = undefined;
  gradLoss: Tensor | undefined = undefined;
  pendingBatches = 0;
  stepOptimizer: Optimizer | undefined = undefined;
  stepped = false;
  logs: Record<string, number> = {};
  readonly state: Record<string, unknown> = {};
  stopped: Stopped | undefined = undefined;
  readonly #snapshot: () => CheckpointSnapshot;
  #loss: Tensor | undefined = undefined;
  #lossValue: number | undefined = undefined;
  #gradNorm: Tensor | undefined = undefined;
  #gradNormValue: number | undefined = undefined;

  constructor(init: ContextInit) {
    this.learner = init.learner;
    this.model = init.learner.model;
    this.optimizer = init.optimizer;
    this.val = init.val;
    this.epochs = init.epochs;
    this.batchesPerEpoch = init.batchesPerEpoch;
    this.metricList = init.metricList;
    this.timings = init.timings;
    this.resumed = init.resumed;
    this.#snapshot = init.snapshot;
  }

  get loss(): Tensor | undefined {
    return this.#loss;
  }

  set loss(t: Tensor | undefined) {
    this.#loss = t;
    this.#lossValue = undefined;
  }

  get lossValue(): number {
    if (this.#lossValue === undefined) this.#lossValue = this.#loss ? Number(this.#loss.item()) : NaN;
    return this.#lossValue;
  }

  setGradNorm(t: Tensor | undefined): void {
    this.#gradNorm = t;
    this.#gradNormValue = undefined;
  }

  get gradNorm(): number | undefined {
    if (this.#gradNormValue === undefined && this.#gradNorm) this.#gradNormValue = Number(this.#gradNorm.item());
    return this.#gradNormValue;
  }

  get lrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  checkpoint(): CheckpointSnapshot {
    return this.#snapshot();
  }

  /** @internal Forgets the batch's tensors (they die with the batch's scope). */
  clearBatch(): void {
    this.batchData = undefined;
    this.x = undefined;
    this.y = undefined;
    this.output = undefined;
    this.loss = undefined;
    this.gradLoss = undefined;
    this.stepOptimizer = undefined;
    this.setGradNorm(undefined);
  }
}

/**
 * f(v) for a value or a promise of one: synchronous when `v` is, so a batch whose callbacks are all
 * synchronous creates no promises (each costs an async-context hook while memory scopes track
 * async work). The trainer's one way of chaining maybe-async steps; `onError` sees a rejection
 * (a synchronous throw is the caller's to catch).
 */
export function settle<T, U>(v: T | Promise<T>, f: (v: T) => U | Promise<U>, onError?: (e: unknown) => U): U | Promise<U> {
  return v instanceof Promise ? v.then(f, onError) : f(v);
}

function asCancel(v: unknown): Cancel | undefined {
  return v && typeof v === 'object' && 'cancel' in v ? (v as Cancel) : undefined;
}

/** Callbacks grouped by event, in order, so an event nobody listens to costs a length check. */
export class Dispatcher {
  readonly callbacks: readonly Callback[];
  readonly #byEvent = new Map<EventName, Callback[]>();

  constructor(callbacks: readonly Callback[]) {
    const names = new Set<string>();
    for (const cb of callbacks) {
      if (names.has(cb.name)) throw new Error(`two callbacks are named '${cb.name}': names key their state in checkpoints and must be unique`);
      names.add(cb.name);
    }
    // A stable sort: equal orders keep the order given.
    this.callbacks = callbacks.map((cb, i) => ({ cb, i })).sort((a, b) => (a.cb.order ?? 0) - (b.cb.order ?? 0) || a.i - b.i).map((e) => e.cb);
    for (const e of EVENTS) this.#byEvent.set(e, this.callbacks.filter((cb) => typeof cb[e] === 'function'));
  }

  /**
   * The one place an event runs: calls every listener of `event` in order and returns the
   * strongest cancel signal any returned (beforeStep: stops at the first). Synchronous unless a
   * listener returns a promise (then the rest run after it settles), so an event nobody makes
   * asynchronous costs no microtask beyond the caller's await.
   */
  emit(event: EventName, ctx: TrainContext): Cancel | undefined | Promise<Cancel | undefined> {
    const list = this.#byEvent.get(event) as Callback[];
    return list.length === 0 ? undefined : this.#run(list, 0, event, ctx, undefined);
  }

  #run(list: Callback[], from: number, event: EventName, ctx: TrainContext, signal: Cancel | undefined): Cancel | undefined | Promise<Cancel | undefined> {
    for (let i = from; i < list.length; i++) {
      if (signal && event === 'beforeStep') return signal;
      const cb = list[i] as Callback;
      const r = (cb[event] as (c: TrainContext) => unknown).call(cb, ctx);
      if (r instanceof Promise) return r.then((v: unknown) => this.#run(list, i + 1, event, ctx, stronger(signal, asCancel(v))));
      signal = stronger(signal, asCancel(r));
    }
    if (signal?.cancel === 'step' && event !== 'beforeStep') throw new Error(`a callback returned ${signal.keepGradients ? 'deferStep' : 'cancelStep'} from ${event}; only beforeStep can cancel or defer a step`);
    return signal;
  }

  async error(ctx: TrainContext, error: unknown): Promise<void> {
    for (const cb of this.callbacks) {
      try {
        await cb.onError?.(ctx, error);
      } catch {
        // The original error is the one worth reporting.
      }
    }
  }
}
